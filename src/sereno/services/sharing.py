"""Alerts crossing from one agency to another: the one enforcement point and the delivery.

``on_alert_raised`` / ``on_alert_changed`` (bus handlers) look at every alert an agency
*originated* (never a received copy), ask every agreement from that agency for its terms and the
policy door (Cedar action ``alert.share``) for a decision, and audit each share and each refusal
(``alert.share``). What is shared is delivered here (``deliver_copy``, an agency on this node) or
put in the transactional outbox for the agency's peer node. Operators' actions on a received copy
go back to the origin (``PARTNER_ACKNOWLEDGED``). ADR 0025.
"""

from __future__ import annotations

import base64
import binascii
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sereno.adapters.media_store import LocalMediaStore
from sereno.domain import events
from sereno.domain.access import Principal
from sereno.domain.agreements import AgreementStatus, ShareTerms, SharingAgreement
from sereno.domain.alerts import (
    ActionKind,
    Alert,
    AlertAction,
    AlertSource,
    copy_from_wire,
    to_wire,
    update_from_wire,
)
from sereno.domain.audit import Outcome
from sereno.domain.cameras import Classification
from sereno.domain.errors import AccessDenied, InvalidInput, NotFound
from sereno.governance.policy.engine import AlertShareResource, Decision
from sereno.services import access_control
from sereno.services.audit import Clock, record
from sereno.services.shared_media import SharedMedia, prepare_media
from sereno.services.unit_of_work import UnitOfWork, UnitOfWorkFactory

logger = logging.getLogger(__name__)

OBJECT = "alert"
COMPONENT = "sharing"
SHARE_ACTION = "alert.share"
#: Changes of an origin alert that its partners' copies follow (its source's changes; the
#: origin's own operator actions stay with the origin).
FORWARDED = frozenset({ActionKind.REPEATED.value, ActionKind.UPDATED.value,
                       ActionKind.CANCELLED.value})
#: Actions on a received copy that go back to the origin as ``PARTNER_ACKNOWLEDGED``.
BACK_PROPAGATED = frozenset({ActionKind.ACKNOWLEDGED.value, ActionKind.DISMISSED.value,
                             ActionKind.CLOSED.value})
SNAPSHOT = "snapshot"
CLIP = "clip"
MEDIA_KEYS = {SNAPSHOT: "snapshot.jpg", CLIP: "clip.mp4"}
MAX_REMOTE_MEDIA = 12 * 1024 * 1024  # bytes of one file in an outbox message
_UUID_NS = uuid.UUID("6f0b5c1e-25a0-4c4e-9d25-0025a11e5ea5")

Publish = Callable[[events.Event], None]


# ---- delivery (this node's agencies; also called for alerts arriving from a peer) ----------


def parse_terms(terms: ShareTerms | Mapping[str, Any]) -> ShareTerms:
    """``ShareTerms`` from themselves or from the ``terms`` object of a message."""
    if isinstance(terms, ShareTerms):
        return terms
    try:
        return ShareTerms(str(terms["agreement_id"]), bool(terms["include_media"]),
                          bool(terms["redact_faces"]), bool(terms["redact_plates"]))
    except (KeyError, TypeError) as error:
        raise InvalidInput(f"malformed sharing terms: {error}") from None


def deliver_copy(uow: UnitOfWork, *, to_agency_id: str, wire: dict[str, Any],
                 media: Mapping[str, bytes], terms: ShareTerms | Mapping[str, Any],
                 origin_node: str | None, clock: Clock, store: LocalMediaStore,
                 redacted: bool | None = None, media_withheld: bool = False) -> Alert:
    """Create or update ``to_agency_id``'s received copy of a partner's alert (``wire``, the
    ``to_wire`` form) with its ``media`` (``snapshot``: JPEG, ``clip``: MP4, already redacted
    and watermarked by the sender), record it, audit it (``alert.receive``) and emit
    ``AlertRaised`` / ``AlertChanged`` for the recipient's queue.

    Runs inside the caller's transaction and does not commit. Media files are written to
    ``alerts/<copy_id>/`` at once. ``redacted`` defaults to "media came and the terms asked for
    redaction"; ``media_withheld`` says the origin had media that did not come.
    Raises ``NotFound`` for an agency this node does not host, ``InvalidInput`` for a
    malformed alert.
    """
    share = parse_terms(terms)
    if uow.agencies.get(to_agency_id) is None:
        raise NotFound(f"this node hosts no agency {to_agency_id!r}")
    origin_agency = str(wire.get("agency_id") or "")
    origin_id = str(wire.get("id") or "")
    if not origin_agency or not origin_id:
        raise InvalidInput("malformed shared alert: no origin agency or id")
    if origin_agency == to_agency_id:
        raise InvalidInput("an agency does not receive its own alerts")
    unknown = set(media) - set(MEDIA_KEYS)
    if unknown:
        raise InvalidInput(f"unknown media {sorted(unknown)} (known: snapshot, clip)")
    if redacted is None:
        redacted = bool(media) and (share.redact_faces or share.redact_plates)
    now = clock()
    system = Principal.system(COMPONENT, to_agency_id)
    detail: dict[str, Any] = {"origin_agency": origin_agency, "origin_alert_id": origin_id,
                              "origin_node": origin_node, "agreement_id": share.agreement_id,
                              "media": sorted(media), "redacted": redacted,
                              "media_withheld": media_withheld}
    copy = uow.alerts.received_copy(to_agency_id, origin_agency, origin_id)
    if copy is None:
        copy = copy_from_wire(wire, alert_id=str(uuid.uuid4()), agency_id=to_agency_id,
                              origin_node=origin_node, at=now, redacted=redacted,
                              media_withheld=media_withheld)
        copy.snapshot_key, copy.clip_key = _store_media(store, copy.id, media)
        uow.alerts.add(copy)
        _act(uow, copy, ActionKind.RAISED, system.username, now, detail={
            "source": AlertSource.PARTNER.value, **detail})
        record(uow, system, "alert.receive", object_type=OBJECT, object_id=copy.id,
               object_agency_id=to_agency_id, reason=copy.headline,
               detail={"kind": "raised", **detail}, now=now)
        uow.emit(events.AlertRaised(copy.id, to_agency_id, copy.source.value,
                                    copy.category.value, copy.severity.value, copy.headline,
                                    copy.raised_at))
        return copy
    changed = update_from_wire(copy, wire, now)
    snapshot_key, clip_key = _store_media(store, copy.id, media)
    media_changes: dict[str, Any] = {"redacted": redacted or copy.redacted,
                                     "media_withheld": media_withheld or copy.media_withheld}
    if snapshot_key:
        media_changes["snapshot_key"] = snapshot_key
    if clip_key:
        media_changes["clip_key"] = clip_key
    changed += copy.update_from_source(now, **media_changes)
    changed += [name for name in media if name not in changed]  # replaced in place
    kind = ActionKind.CANCELLED if copy.status.value == "cancelled" and "status" in changed \
        else ActionKind.UPDATED
    _act(uow, copy, kind, system.username, now, detail={"changed": sorted(set(changed)),
                                                        **detail})
    record(uow, system, "alert.receive", object_type=OBJECT, object_id=copy.id,
           object_agency_id=to_agency_id,
           detail={"kind": "updated", "changed": sorted(set(changed)), **detail}, now=now)
    uow.emit(events.AlertChanged(copy.id, to_agency_id, kind.value, copy.status.value,
                                 copy.version, now))
    return copy


def accept_shared_alert(uow: UnitOfWork, payload: Mapping[str, Any], *, origin_node: str,
                        clock: Clock, store: LocalMediaStore) -> Alert:
    """``deliver_copy`` for the payload of an ``alert.raised`` / ``alert.updated`` message
    from peer node ``origin_node`` (shape in ADR 0025). Runs in the caller's transaction."""
    try:
        to_agency = str(payload["to_agency_id"])
        wire = dict(payload["alert"])
        terms = parse_terms(payload["terms"])
        sent = dict(payload.get("media") or {})
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidInput(f"malformed shared alert message: {error}") from None
    files: dict[str, bytes] = {}
    for name, field_name in ((SNAPSHOT, "snapshot_jpeg_b64"), (CLIP, "clip_mp4_b64")):
        if sent.get(field_name):
            try:
                files[name] = base64.b64decode(str(sent[field_name]), validate=True)
            except (binascii.Error, ValueError):
                raise InvalidInput(f"malformed shared alert message: {field_name} is not "
                                   "base64") from None
    return deliver_copy(uow, to_agency_id=to_agency, wire=wire, media=files, terms=terms,
                        origin_node=origin_node, clock=clock, store=store,
                        redacted=bool(sent.get("redacted", bool(files) and (
                            terms.redact_faces or terms.redact_plates))),
                        media_withheld=bool(sent.get("withheld", False)))


def _store_media(store: LocalMediaStore, copy_id: str,
                 media: Mapping[str, bytes]) -> tuple[str | None, str | None]:
    keys: dict[str, str | None] = {SNAPSHOT: None, CLIP: None}
    for name, data in media.items():
        if data:
            key = f"alerts/{copy_id}/{MEDIA_KEYS[name]}"
            store.put(key, data)
            keys[name] = key
    return keys[SNAPSHOT], keys[CLIP]


def _act(uow: UnitOfWork, alert: Alert, kind: ActionKind, by: str, at: datetime,
         note: str | None = None, detail: dict[str, Any] | None = None) -> None:
    uow.alerts.add_action(AlertAction(alert.id, kind, by, at, note, dict(detail or {})))


# ---- the enforcement point ---------------------------------------------------------------


def on_alert_raised(event: events.AlertRaised, *, uow_factory: UnitOfWorkFactory,
                    publish: Publish, clock: Clock, store: LocalMediaStore, data_dir: Path,
                    node_name: str) -> None:
    """Share a newly raised alert as the agreements and the policies say (bus handler)."""
    pending = share_alert(uow_factory(), event.alert_id, change=None, clock=clock, store=store,
                          data_dir=data_dir, node_name=node_name)
    for item in pending:
        publish(item)


def on_alert_changed(event: events.AlertChanged, *, uow_factory: UnitOfWorkFactory,
                     publish: Publish, clock: Clock, store: LocalMediaStore, data_dir: Path,
                     node_name: str) -> None:
    """Forward a source's change of an origin alert to its partners; send an operator's action
    on a received copy back to the origin (bus handler)."""
    pending: list[events.Event] = []
    if event.action in FORWARDED:
        pending = share_alert(uow_factory(), event.alert_id, change=event.action, clock=clock,
                              store=store, data_dir=data_dir, node_name=node_name)
    elif event.action in BACK_PROPAGATED:
        pending = send_back(uow_factory(), event.alert_id, event.action, event.at, clock=clock)
    for item in pending:
        publish(item)


def share_alert(uow: UnitOfWork, alert_id: str, *, change: str | None, clock: Clock,
                store: LocalMediaStore, data_dir: Path, node_name: str) -> list[events.Event]:
    """Decide, for every other agency, whether ``alert_id`` goes to it, and deliver it (this
    node) or queue it for the agency's peer node; audit each share and each refusal. Returns the
    events to publish (the recipients' queues). ``change``: the origin's change being forwarded
    (None: the alert was just raised)."""
    with uow:
        alert = uow.alerts.get(alert_id)
        if alert is None or alert.source is AlertSource.PARTNER or alert.origin_alert_id:
            return []  # a received copy is never shared on
        now = clock()
        system = Principal.system(COMPONENT, alert.agency_id)
        remote = {str(p["agency_id"]): str(p["node_id"]) for p in uow.peers.list()}
        local = {a.id for a in uow.agencies.list()}
        given = [a for a in uow.agreements.involving(alert.agency_id)
                 if a.from_agency_id == alert.agency_id]
        recipients = (local | set(remote) | {a.to_agency_id for a in given}) - {alert.agency_id}
        hit = _watchlist_hit(uow, alert)
        private = _on_private_camera(uow, alert)
        for to_agency in sorted(recipients):
            candidates = [a for a in given if a.to_agency_id == to_agency]
            agreement, decision = _decide(uow, alert, to_agency, candidates, (hit, private),
                                          now)
            detail: dict[str, Any] = {"to_agency": to_agency, "change": change or "raised",
                                      "agreement_id": agreement.id if agreement else None,
                                      **decision.audit_detail()}
            terms = agreement.terms_for(alert, now) if agreement and decision.allowed else None
            if terms is None:  # the policies refused, or (looser policies) the terms did
                reason = decision.reason if not decision.allowed else (
                    "the sharing agreement's terms do not cover this alert")
                _audit(uow, system, alert, Outcome.DENIED, reason, detail, now)
                continue
            if to_agency not in remote and to_agency not in local:
                _audit(uow, system, alert, Outcome.DENIED, "the partner agency is neither on "
                       "this node nor on a registered peer node", detail, now)
                continue
            detail.update(_deliver(uow, alert, terms, to_agency, remote.get(to_agency),
                                   decision, change=change, clock=clock, store=store,
                                   data_dir=data_dir, node_name=node_name, now=now))
            _audit(uow, system, alert, Outcome.ALLOWED, decision.reason, detail, now)
        uow.commit()
        return list(uow.collect_new_events())


def _audit(uow: UnitOfWork, system: Principal, alert: Alert, outcome: Outcome, reason: str,
           detail: dict[str, Any], now: datetime) -> None:
    record(uow, system, SHARE_ACTION, outcome=outcome, object_type=OBJECT, object_id=alert.id,
           object_agency_id=alert.agency_id, reason=reason, detail=detail, now=now)


def _decide(uow: UnitOfWork, alert: Alert, to_agency: str,
            candidates: Sequence[SharingAgreement], flags: tuple[bool, bool],
            now: datetime) -> tuple[SharingAgreement | None, Decision]:
    """The first agreement under which the policies let the alert go; when none does, the
    refusal of the most relevant one (in force, then not in force, then revoked)."""
    def rank(agreement: SharingAgreement) -> int:
        if agreement.status is AgreementStatus.REVOKED:
            return 2
        return 0 if agreement.in_force(now) else 1

    refused: tuple[SharingAgreement | None, Decision] | None = None
    for agreement in sorted(candidates, key=rank):
        decision = access_control.decide_share(
            uow, _resource(alert, to_agency, agreement, flags, now))
        if decision.allowed:
            return agreement, decision
        refused = refused or (agreement, decision)
    if refused is not None:
        return refused
    return None, access_control.decide_share(
        uow, _resource(alert, to_agency, None, flags, now))


def _resource(alert: Alert, to_agency: str, agreement: SharingAgreement | None,
              flags: tuple[bool, bool], now: datetime) -> AlertShareResource:
    """What the policies see of ``alert`` going to ``to_agency`` under ``agreement``
    (``flags``: a watchlist hit, on a private camera)."""
    watchlist_hit, private_camera = flags
    base = AlertShareResource(
        alert_id=alert.id, owner_agency_id=alert.agency_id, recipient=to_agency,
        source=alert.source.value, category=alert.category.value,
        severity=alert.severity.value, watchlist_hit=watchlist_hit,
        private_camera=private_camera)
    if agreement is None:
        return base
    return AlertShareResource(
        alert_id=alert.id, owner_agency_id=alert.agency_id, recipient=to_agency,
        source=alert.source.value, category=alert.category.value,
        severity=alert.severity.value, agreement=agreement.id,
        agreement_from=agreement.from_agency_id, agreement_status=agreement.status.value,
        agreement_started=agreement.valid_from <= now,
        agreement_ended=agreement.valid_until is not None and now >= agreement.valid_until,
        category_covered=alert.category.value in agreement.categories,
        severity_covered=alert.severity.rank >= agreement.min_severity.rank,
        area_covered=agreement.covers(alert.latitude, alert.longitude),
        watchlist_hit=watchlist_hit, shares_watchlists=agreement.share_watchlists,
        private_camera=private_camera,
        include_media=agreement.include_media, redact_faces=agreement.redact_faces,
        redact_plates=agreement.redact_plates)


def _watchlist_hit(uow: UnitOfWork, alert: Alert) -> bool:
    """Whether the alert was raised by a plate watchlist hit (personal data)."""
    for detection_id in alert.detection_ids[-1:]:
        detection = uow.detections.get(detection_id)
        if detection is not None and detection.rule_kind == "plate":
            return True
    return False


def _on_private_camera(uow: UnitOfWork, alert: Alert) -> bool:
    """Whether the alert names a camera its owner classified private."""
    for camera_id in alert.camera_ids:
        camera = uow.cameras.get(camera_id)
        if camera is not None and camera.classification is Classification.PRIVATE:
            return True
    return False


def _message_id(alert_id: str, to_agency: str, what: str) -> str:
    """Deterministic envelope ids: a handler that runs twice queues nothing twice, and the
    first message to a peer tells later ones they are updates."""
    return str(uuid.uuid5(_UUID_NS, f"{alert_id}/{to_agency}/{what}"))


def _deliver(uow: UnitOfWork, alert: Alert, terms: ShareTerms, to_agency: str,
             peer_node: str | None, decision: Decision, *, change: str | None, clock: Clock,
             store: LocalMediaStore, data_dir: Path, node_name: str,
             now: datetime) -> dict[str, Any]:
    """Hand the alert to ``to_agency`` (here, or the outbox of its peer node); what the audit
    record says of the delivery."""
    watermark = "watermark" in decision.obligations
    wire = to_wire(alert)
    if peer_node is None:
        first = uow.alerts.received_copy(to_agency, alert.agency_id, alert.id) is None
    else:
        first = uow.outbox.get(_message_id(alert.id, to_agency, "raised")) is None
        message_id = _message_id(alert.id, to_agency, "raised" if first else
                                 f"v{alert.version}")
        if not first and uow.outbox.get(message_id) is not None:
            return {"delivery": "already queued", "peer_node": peer_node}
    media = prepare_media(uow, alert, terms, to_agency_id=to_agency, watermark=watermark,
                          store=store, data_dir=data_dir, now=now,
                          with_snapshot=first or change == ActionKind.REPEATED.value,
                          with_clip=first or change == ActionKind.UPDATED.value)
    detail = {"media": sorted(media.files), "redacted": media.redacted,
              "media_withheld": media.withheld, **media.detail}
    if peer_node is None:
        copy = deliver_copy(uow, to_agency_id=to_agency, wire=wire, media=media.files,
                            terms=terms, origin_node=node_name, clock=clock, store=store,
                            redacted=media.redacted, media_withheld=media.withheld)
        return {**detail, "delivery": "local", "copy_id": copy.id}
    uow.outbox.enqueue(destination_kind="peer", destination=peer_node,
                       source_agency_id=alert.agency_id,
                       kind="alert.raised" if first else "alert.updated",
                       payload=_payload(to_agency, wire, terms, media), now=now,
                       message_id=message_id)
    return {**detail, "delivery": "peer", "peer_node": peer_node, "message_id": message_id}


def _payload(to_agency: str, wire: dict[str, Any], terms: ShareTerms,
             media: SharedMedia) -> dict[str, Any]:
    """The body of an ``alert.raised`` / ``alert.updated`` message to a peer (ADR 0025)."""
    sent: dict[str, Any] = {"redacted": media.redacted, "withheld": media.withheld}
    if "snapshot" in media.files:
        sent["snapshot_jpeg_b64"] = base64.b64encode(media.files["snapshot"]).decode()
    clip = media.files.get("clip")
    if clip is not None and len(clip) <= MAX_REMOTE_MEDIA:
        sent["clip_mp4_b64"] = base64.b64encode(clip).decode()
    elif clip is not None:
        sent["withheld"] = True
    return {"to_agency_id": to_agency, "alert": wire,
            "terms": {"agreement_id": terms.agreement_id, "include_media": terms.include_media,
                      "redact_faces": terms.redact_faces, "redact_plates": terms.redact_plates},
            "media": sent}


# ---- back to the origin ------------------------------------------------------------------


def send_back(uow: UnitOfWork, copy_id: str, action: str, at: datetime, *,
              clock: Clock) -> list[events.Event]:
    """A recipient acted on its copy: tell the origin (directly on this node, through the
    outbox for a peer's alert). Returns the events to publish."""
    with uow:
        copy = uow.alerts.get(copy_id)
        if copy is None or copy.origin_alert_id is None or copy.origin_agency_id is None:
            return []
        payload = {"origin_alert_id": copy.origin_alert_id, "by_agency": copy.agency_id,
                   "action": action, "at": at.isoformat()}
        origin = uow.alerts.get(copy.origin_alert_id)
        system = Principal.system(COMPONENT, copy.agency_id)
        if origin is not None and origin.agency_id == copy.origin_agency_id:
            _partner_action(uow, origin, copy.agency_id, action, at)
            where: dict[str, Any] = {"delivery": "local"}
        else:
            node = _node_of(uow, copy)
            if node is None:
                logger.warning("no route back to %s for alert %s", copy.origin_agency_id,
                               copy.origin_alert_id)
                return []
            message_id = uuid.uuid5(_UUID_NS, f"{copy.id}/{action}/{at.isoformat()}")
            if uow.outbox.get(str(message_id)) is None:
                uow.outbox.enqueue(destination_kind="peer", destination=node,
                                   source_agency_id=copy.agency_id, kind="alert.acknowledged",
                                   payload=payload, now=clock(), message_id=str(message_id))
            where = {"delivery": "peer", "peer_node": node}
        record(uow, system, "alert.partner_action", object_type=OBJECT, object_id=copy.id,
               object_agency_id=copy.agency_id, detail={**payload, **where}, now=clock())
        uow.commit()
        return list(uow.collect_new_events())


def _node_of(uow: UnitOfWork, copy: Alert) -> str | None:
    """The peer node a received copy came from (or that hosts its origin agency)."""
    if copy.origin_node and uow.peers.get(copy.origin_node) is not None:
        return copy.origin_node
    for peer in uow.peers.list():
        if peer["agency_id"] == copy.origin_agency_id:
            return str(peer["node_id"])
    return None


def accept_partner_action(uow: UnitOfWork, payload: Mapping[str, Any], *, clock: Clock,
                          peer_agency_id: str | None = None) -> Alert:
    """Record on an origin alert of this node that a partner acted on its copy (the payload
    of an ``alert.acknowledged`` message). ``peer_agency_id``: the agency the sending peer
    node is registered for; it must be the one that acted. Runs in the caller's transaction.
    ``InvalidInput`` when malformed, ``NotFound`` for an unknown alert, ``AccessDenied``
    when the agency was never given the alert."""
    try:
        origin_id, by_agency = str(payload["origin_alert_id"]), str(payload["by_agency"])
        action = str(payload["action"])
        at = datetime.fromisoformat(str(payload["at"]))
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidInput(f"malformed partner action: {error}") from None
    if action not in BACK_PROPAGATED:
        raise InvalidInput(f"unknown partner action {action!r}")
    if at.tzinfo is None:
        raise InvalidInput("malformed partner action: 'at' has no time zone")
    if peer_agency_id is not None and peer_agency_id != by_agency:
        raise AccessDenied("a peer node reports only its own agency's actions")
    origin = uow.alerts.get(origin_id)
    if origin is None or origin.origin_alert_id is not None:
        raise NotFound(f"no alert {origin_id!r} raised on this node")
    if not any(a.from_agency_id == origin.agency_id and a.to_agency_id == by_agency
               for a in uow.agreements.involving(origin.agency_id)):
        raise AccessDenied(f"{by_agency} was never given alerts of {origin.agency_id}")
    _partner_action(uow, origin, by_agency, action, at)
    record(uow, Principal.system(COMPONENT, origin.agency_id), "alert.partner_action",
           object_type=OBJECT, object_id=origin.id, object_agency_id=origin.agency_id,
           detail={**dict(payload), "delivery": "peer"}, now=clock())
    return origin


def _partner_action(uow: UnitOfWork, origin: Alert, by_agency: str, action: str,
                    at: datetime) -> None:
    """The ``PARTNER_ACKNOWLEDGED`` entry on the origin's timeline (and its queue's event)."""
    _act(uow, origin, ActionKind.PARTNER_ACKNOWLEDGED, f"partner:{by_agency}", at,
         detail={"partner_agency": by_agency, "partner_action": action})
    origin.note_partner_action(at)  # a new version: consoles and the relay see a change
    uow.emit(events.AlertChanged(origin.id, origin.agency_id,
                                 ActionKind.PARTNER_ACKNOWLEDGED.value, origin.status.value,
                                 origin.version, at))


# ---- joint operations (ADR 0033) -----------------------------------------------------------


def share_under_operation(uow: UnitOfWork, alert: Alert, to_agency: str, *, operation_id: str,
                          operation_code: str, clock: Clock, store: LocalMediaStore,
                          data_dir: Path, node_name: str, change: str | None = None) -> bool:
    """Share ``alert`` with ``to_agency``, a participant of an active joint operation whose area
    holds it and with which no agreement shares it. The operation acts as an agreement between
    its participants for its area and window: the policy door decides as for one (in force,
    category, severity and area covered; no media), the copy and the ``alert.share`` audit
    record are the agreements' own. ``change``: the origin's change being forwarded (None: the
    alert was just raised). Runs in the caller's transaction; True when shared."""
    now = clock()
    system = Principal.system(COMPONENT, alert.agency_id)
    remote = {str(p["agency_id"]): str(p["node_id"]) for p in uow.peers.list()}
    reference = f"operation:{operation_id}"
    flags = (_watchlist_hit(uow, alert), _on_private_camera(uow, alert))
    decision = access_control.decide_share(uow, AlertShareResource(
        alert_id=alert.id, owner_agency_id=alert.agency_id, recipient=to_agency,
        source=alert.source.value, category=alert.category.value,
        severity=alert.severity.value, agreement=reference, agreement_from=alert.agency_id,
        agreement_status=AgreementStatus.ACTIVE.value, agreement_started=True,
        agreement_ended=False, category_covered=True, severity_covered=True,
        area_covered=True, watchlist_hit=flags[0], shares_watchlists=False,
        private_camera=flags[1], include_media=False, redact_faces=True,
        redact_plates=True))
    detail: dict[str, Any] = {"to_agency": to_agency, "change": change or "raised",
                              "agreement_id": None, "operation": operation_code,
                              "operation_id": operation_id, **decision.audit_detail()}
    if not decision.allowed:
        _audit(uow, system, alert, Outcome.DENIED, decision.reason, detail, now)
        return False
    if to_agency not in remote and uow.agencies.get(to_agency) is None:
        _audit(uow, system, alert, Outcome.DENIED, "the participant agency is neither on this "
               "node nor on a registered peer node", detail, now)
        return False
    terms = ShareTerms(reference, include_media=False, redact_faces=True, redact_plates=True)
    detail.update(_deliver(uow, alert, terms, to_agency, remote.get(to_agency), decision,
                           change=change, clock=clock, store=store, data_dir=data_dir,
                           node_name=node_name, now=now))
    _audit(uow, system, alert, Outcome.ALLOWED, decision.reason, detail, now)
    return True


def holds_copy(uow: UnitOfWork, alert: Alert, to_agency: str) -> bool:
    """Whether ``to_agency`` was given ``alert`` (a copy here, or a first message queued for
    its peer node)."""
    if uow.alerts.received_copy(to_agency, alert.agency_id, alert.id) is not None:
        return True
    return uow.outbox.get(_message_id(alert.id, to_agency, "raised")) is not None
