"""The one place where Sereno is wired: settings → engine → unit of work → handlers → bus."""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

import sereno.services.retention as retention_service
from sereno.adapters.common_passwords import load_common_passwords
from sereno.adapters.db import migrate
from sereno.adapters.db.audit_log import AuditLogStore
from sereno.adapters.db.engine import build_engine
from sereno.adapters.db.mapping import start_mappers
from sereno.adapters.media_store import LocalMediaStore
from sereno.adapters.passwords import Argon2PasswordHasher
from sereno.adapters.totp import TotpAuthenticator, load_or_create_key, parse_key
from sereno.config import Profile, Settings
from sereno.domain import commands, events
from sereno.domain.users import LockoutPolicy, PasswordPolicy
from sereno.governance.node_key import NodeKey
from sereno.services import (
    access_control,
    accounts,
    alerts,
    breaches,
    cameras,
    egress,
    impact,
    incident_exchange,
    integrations,
    security,
    sharing,
    video,
    watchlist,
)
from sereno.services import operations as operations_service
from sereno.services import second_factor as second_factor_service
from sereno.services.audit import Clock, utcnow
from sereno.services.audit_log import TransparencyLog
from sereno.services.event_relay import RELAYED, EventRelay
from sereno.services.event_stream import EventStream
from sereno.services.messagebus import CommandHandler, EventHandler, MessageBus
from sereno.services.unit_of_work import SqlAlchemyUnitOfWork, UnitOfWork

if TYPE_CHECKING:
    from sereno.adapters.bus import Transport
    from sereno.adapters.secret_box import SecretBox
    from sereno.governance.egress import EgressClient
    from sereno.governance.mqtt_egress import MqttPublisher
    from sereno.services.dispatch_recommender import UnitIndex
    from sereno.services.federation import Federation


@dataclass
class Platform:
    """Everything an entry point (API, CLI, worker) needs, built once."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    bus: MessageBus
    hasher: Argon2PasswordHasher
    clock: Clock
    auth_policy: accounts.AuthPolicy
    media: LocalMediaStore
    event_stream: EventStream
    second_factor: TotpAuthenticator
    audit_log: TransparencyLog

    def uow(self) -> UnitOfWork:
        """A fresh unit of work (one transaction)."""
        return SqlAlchemyUnitOfWork(self.session_factory)

    @cached_property
    def egress(self) -> EgressClient:
        """The one outbound HTTP client: approved destinations only (``governance/egress``)."""
        from sereno.governance.egress import EgressClient

        settings = self.settings.egress
        return EgressClient(self.uow, clock=self.clock, publish=self.bus.publish,
                            allow_plain_http_loopback=settings.allow_plain_http_loopback,
                            timeout_s=settings.timeout_seconds,
                            max_response_bytes=settings.max_response_bytes)

    @cached_property
    def federation(self) -> Federation:
        """Signed envelopes to and from peer nodes (ADR 0026): the sender, the receivers by
        kind, and the wake-up of the sender when a transaction enqueues."""
        from sereno.services.federation import Federation
        from sereno.services.federation_receivers import register_alert_receivers
        from sereno.services.incident_exchange import register_incident_receivers

        workers = self.settings.workers
        federation = Federation(
            self.uow, clock=self.clock, key=self.audit_log.key, egress=lambda: self.egress,
            node_agency_id=self.settings.node_agency_id, publish=self.bus.publish,
            batch=workers.federation_batch, max_body_bytes=workers.federation_max_body_bytes,
            timeout_s=workers.federation_timeout_seconds,
            retry_cap_s=workers.federation_retry_cap_seconds)
        federation.install_wakeup(self.session_factory)
        register_alert_receivers(federation, clock=self.clock, store=self.media)
        register_incident_receivers(federation, clock=self.clock)
        return federation

    @cached_property
    def transport(self) -> Transport:
        """The bus's durable transport (ADR 0024), built on first use: in memory on the
        embedded profile, NATS JetStream on production (``bus`` settings)."""
        from sereno.adapters.bus import build_transport

        return build_transport(self.settings.bus)

    @cached_property
    def unit_index(self) -> UnitIndex:
        """This process's index of unit positions for the nearest-unit search (ADR 0032)."""
        from sereno.services.dispatch_recommender import UnitIndex

        return UnitIndex()

    @cached_property
    def event_relay(self) -> EventRelay:
        """Alert events to and from this node's other processes over the transport."""
        # One durable group per serving process (host and port), so that every process gets
        # every event and a restarted one resumes where it stopped.
        process = f"{self.settings.node_name}-{os.uname().nodename}-{self.settings.http.port}"
        return EventRelay(self.transport, self.event_stream,
                          group="console-" + re.sub(r"[^A-Za-z0-9_-]", "_", process)[:56],
                          root=self.settings.bus.subject_root)

    @cached_property
    def integration_secrets(self) -> SecretBox:
        """Seals the HMAC keys of alert integrations (ADR 0029), under the node's sealing key."""
        from sereno.adapters.secret_box import SecretBox

        return SecretBox(sealing_key_from(self.settings), "integration")

    @cached_property
    def integration_wake(self) -> threading.Event:
        """Set when an alert integration message is enqueued: the sender wakes up at once."""
        return threading.Event()

    @cached_property
    def mqtt(self) -> MqttPublisher:
        """The one MQTT client: approved ``mqtt`` destinations only (``governance/mqtt_egress``)."""
        from sereno.governance.mqtt_egress import MqttPublisher

        return MqttPublisher(self.egress, timeout_s=self.settings.integrations.timeout_seconds)

    def close(self) -> None:
        """Stop the transport (if it was built) and release database connections."""
        transport = self.__dict__.pop("transport", None)
        if transport is not None:
            transport.close()
        self.engine.dispose()


def auth_policy_from(settings: Settings) -> accounts.AuthPolicy:
    """Session, token, lockout and password rules from the settings."""
    auth = settings.auth
    return accounts.AuthPolicy(
        lockout=LockoutPolicy(
            max_failures=auth.lockout_max_failures,
            window=timedelta(minutes=auth.lockout_window_minutes),
            lock_for=timedelta(minutes=auth.lockout_minutes),
        ),
        session_idle=timedelta(minutes=auth.session_idle_minutes),
        session_max=timedelta(hours=auth.session_max_hours),
        token_ttl=timedelta(minutes=auth.token_ttl_minutes),
        token_max_ttl=timedelta(minutes=auth.token_max_ttl_minutes),
        password=PasswordPolicy(min_length=auth.password_min_length,
                                max_length=auth.password_max_length,
                                common=load_common_passwords()),
    )


def sealing_key_from(settings: Settings) -> bytes:
    """The node's key that seals secrets at rest (TOTP secrets; integration keys through
    ``SecretBox``): ``auth.totp_key``, else (embedded profile) ``<data_dir>/secrets/totp.key``,
    made on first start."""
    auth = settings.auth
    if auth.totp_key is not None:
        return parse_key(auth.totp_key.get_secret_value())
    if settings.profile is Profile.PRODUCTION:
        raise ValueError("the production profile needs SERENO_AUTH__TOTP_KEY (32 random bytes "
                         "in url-safe base64, the same on every node) to seal TOTP secrets")
    return load_or_create_key(settings.data_dir / "secrets" / "totp.key")


def second_factor_from(settings: Settings) -> TotpAuthenticator:
    """The TOTP checker with the key that seals the secrets (``sealing_key_from``)."""
    return TotpAuthenticator(sealing_key_from(settings), settings.auth.totp_issuer)


def retention_storage(settings: Settings, media: LocalMediaStore) -> retention_service.Storage:
    """Where the purge finds media and recordings, and the node's recording limits."""
    return retention_service.Storage(
        media=media, recordings_root=settings.recordings_root,
        max_age_hours=settings.video.retention_max_hours,
        max_mb_per_camera=settings.video.retention_max_mb_per_camera,
        batch=settings.retention.batch)


def bootstrap(settings: Settings, *, clock: Clock = utcnow, run_migrations: bool = True,
              **engine_options: Any) -> Platform:
    """Build the platform. ``run_migrations`` brings the schema to the latest revision."""
    start_mappers()
    engine = build_engine(settings.db_url, **engine_options)
    if run_migrations:
        migrate.upgrade(engine)
    session_factory = sessionmaker(bind=engine, expire_on_commit=False)
    hasher = Argon2PasswordHasher(settings.auth.argon2_time_cost, settings.auth.argon2_memory_kib)
    policy = auth_policy_from(settings)
    second_factor = second_factor_from(settings)
    stream = EventStream()
    media = LocalMediaStore(settings.media_root)

    command_handlers: dict[type[commands.Command], CommandHandler] = {
        commands.RegisterCamera: partial(cameras.register_camera, clock=clock),
        commands.UpdateCamera: partial(cameras.update_camera, clock=clock),
        commands.RetireCamera: partial(cameras.retire_camera, clock=clock),
        commands.ImportCameras: partial(cameras.import_cameras, clock=clock),
        commands.RecordStreamProbe: partial(cameras.record_stream_probe, clock=clock),
        commands.CreateRule: partial(video.create_rule, clock=clock),
        commands.UpdateRule: partial(video.update_rule, clock=clock),
        commands.DeleteRule: partial(video.delete_rule, clock=clock),
        commands.RecordDetection: partial(video.record_detection, media=media),
        commands.AttachEventClip: video.attach_event_clip,
        commands.AddWatchlistEntry: partial(watchlist.add_entry, clock=clock),
        commands.RemoveWatchlistEntry: watchlist.remove_entry,
        commands.PublishWatchlistEntry: watchlist.publish_entry,
        commands.CreateUser: partial(accounts.create_user, hasher=hasher, clock=clock,
                                     policy=policy),
        commands.UpdateUser: partial(accounts.update_user, hasher=hasher, clock=clock,
                                     policy=policy),
        commands.UnlockUser: partial(accounts.unlock_user, clock=clock),
        commands.SetRetentionPolicy: partial(retention_service.set_policy, clock=clock),
        commands.PlaceLegalHold: partial(retention_service.place_hold, clock=clock),
        commands.ReleaseLegalHold: partial(retention_service.release_hold, clock=clock),
        commands.PurgeExpired: partial(retention_service.purge, clock=clock,
                                       storage=retention_storage(settings, media)),
        commands.ChangePassword: partial(accounts.change_password, hasher=hasher, clock=clock,
                                         policy=policy),
        commands.ResetSecondFactor: partial(second_factor_service.reset_second_factor,
                                            clock=clock),
        commands.AcknowledgeSecurityAlert: partial(security.acknowledge_alert, clock=clock),
        commands.CloseSecurityAlert: partial(security.close_alert, clock=clock),
        commands.RegisterEgressDestination: partial(egress.register_destination, clock=clock),
        commands.ApproveEgressDestination: partial(egress.approve_destination, clock=clock),
        commands.RevokeEgressDestination: partial(egress.revoke_destination, clock=clock),
        commands.OpenBreachCase: partial(breaches.open_manual_case, clock=clock),
        commands.MarkBreachNotice: partial(breaches.mark_notice_sent, clock=clock),
        commands.CloseBreachCase: partial(breaches.close_case, clock=clock),
        commands.RecordImpactAssessment: partial(impact.record_assessment, clock=clock),
        commands.ApproveImpactAssessment: partial(impact.approve_assessment, clock=clock),
        commands.RaiseAlert: partial(alerts.raise_manual, clock=clock),
        commands.HandleAlert: partial(alerts.handle, clock=clock),
    }
    event_handlers: dict[type[events.Event], list[EventHandler]] = {
        event_type: [stream.publish]
        for event_type in (events.CameraRegistered, events.CameraUpdated, events.CameraRetired,
                           events.CamerasImported, events.UserLockedOut,
                           events.CameraStatusChanged, events.DetectionEvent,
                           events.VideoQualityChanged, events.CameraRulesChanged,
                           events.EventClipReady, events.WatchlistChanged,
                           events.TracksUpdated, events.SecurityAlertRaised,
                           events.SecurityAlertChanged, events.BreachCaseOpened,
                           events.EgressDestinationChanged, events.ImpactAssessmentChanged,
                           events.AlertRaised, events.AlertChanged,
                           events.IncidentCreated, events.IncidentChanged)
    }
    platform = Platform(
        settings=settings, engine=engine, session_factory=session_factory,
        bus=MessageBus(lambda: SqlAlchemyUnitOfWork(session_factory), command_handlers,
                       event_handlers),
        hasher=hasher, clock=clock, auth_policy=policy,
        media=media, event_stream=stream, second_factor=second_factor,
        audit_log=TransparencyLog(
            AuditLogStore(engine),
            NodeKey.load_or_create(settings.node_name, settings.node_key_path),
            lambda: SqlAlchemyUnitOfWork(session_factory), clock),
    )
    _subscribe_alerts(platform)
    incident_exchange.subscribe(platform)  # incidents follow the agreements (ADR 0033)
    _subscribe_integrations(platform)
    _subscribe_sharing(platform)
    _subscribe_operations(platform)
    if settings.bus.relay_events:  # the transport connects on the first alert event
        for relayed in RELAYED.values():
            platform.bus.subscribe(relayed, lambda event: platform.event_relay.forward(event))
    if run_migrations:
        access_control.ensure_policies(platform.uow(), clock())
    return platform


def _subscribe_alerts(platform: Platform) -> None:
    """Detections raise alerts; a clip cut later joins its alert."""
    bus, uow, clock = platform.bus, platform.uow, platform.clock
    bus.subscribe(events.DetectionEvent, partial(alerts.on_detection, uow_factory=uow,
                                                 publish=bus.publish, clock=clock))
    bus.subscribe(events.EventClipReady, partial(alerts.on_clip_ready, uow_factory=uow,
                                                 publish=bus.publish, clock=clock))


def _subscribe_sharing(platform: Platform) -> None:
    """Every alert an agency raises passes the sharing enforcement point; actions on received
    copies go back to their origin (ADR 0025)."""
    bus, settings = platform.bus, platform.settings
    bus.subscribe(events.AlertRaised, partial(
        sharing.on_alert_raised, uow_factory=platform.uow, publish=bus.publish,
        clock=platform.clock, store=platform.media, data_dir=settings.data_dir,
        node_name=settings.node_name))
    bus.subscribe(events.AlertChanged, partial(
        sharing.on_alert_changed, uow_factory=platform.uow, publish=bus.publish,
        clock=platform.clock, store=platform.media, data_dir=settings.data_dir,
        node_name=settings.node_name))


def _subscribe_operations(platform: Platform) -> None:
    """Alerts raised inside an active joint operation get a raised priority and reach its
    participants (ADR 0033)."""
    bus, settings = platform.bus, platform.settings
    bus.subscribe(events.AlertRaised, partial(
        operations_service.on_alert_raised, uow_factory=platform.uow, publish=bus.publish,
        clock=platform.clock, store=platform.media, data_dir=settings.data_dir,
        node_name=settings.node_name))
    bus.subscribe(events.AlertChanged, partial(
        operations_service.on_alert_changed, uow_factory=platform.uow, publish=bus.publish,
        clock=platform.clock, store=platform.media, data_dir=settings.data_dir,
        node_name=settings.node_name))


def _subscribe_integrations(platform: Platform) -> None:
    """Alerts go to the agency's subscribed tools (ADR 0029): enqueued here, sent by the
    integrations worker, which the enqueueing wakes."""
    handler = partial(integrations.on_alert_event, uow_factory=platform.uow,
                      clock=platform.clock, wake=platform.integration_wake.set,
                      console_url=platform.settings.integrations.console_url)
    platform.bus.subscribe(events.AlertRaised, handler)
    platform.bus.subscribe(events.AlertChanged, handler)
