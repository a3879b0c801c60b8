"""CAP 1.2 exchange use-cases (ADR 0027): export an alert, import a message, an agency's Atom
feed, and the registered sources whose messages an agency imports.

Import accepts a message only when it is valid CAP, comes from a source the caller's agency
registered and, when that source has a pinned certificate, its signature verifies against it.
Every accepted message is stored as received in ``cap_messages`` (the deduplication key is
CAP's: sender, identifier, sent); ``Alert`` creates an alert, ``Update``/``Cancel`` change or
cancel the one their references point to (only the same sender's), ``Ack``/``Error`` are
recorded (an Ack of one of our own messages is noted on that alert). Everything is audited.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sereno.domain import events
from sereno.domain.access import Permission, Principal
from sereno.domain.agreements import SharingAgreement
from sereno.domain.alerts import (
    ActionKind,
    Alert,
    AlertAction,
    AlertSource,
    Category,
    Certainty,
    Severity,
    Urgency,
    parse_enum,
)
from sereno.domain.cap_sources import CapSource
from sereno.domain.errors import AccessDenied, InvalidInput, NotFound, SerenoError
from sereno.exchange.cap import atom, signature
from sereno.exchange.cap.export import (
    Audience,
    alert_id_of,
    alert_identifier,
    export_alert,
    sender_id,
)
from sereno.exchange.cap.importer import AlertContent, CapMessage, read_message, without_info
from sereno.exchange.cap.validation import MAX_BYTES, check_cap
from sereno.services.audit import Clock, record, refuse, require
from sereno.services.unit_of_work import UnitOfWork

MESSAGE = "cap_message"
SOURCE = "cap_source"
FEED_LIMIT = 100

Publish = Callable[[events.Event], None]


# ---- export -----------------------------------------------------------------------------------


def letting_through(uow: UnitOfWork, alert: Alert, agency_id: str,
                    at: datetime) -> SharingAgreement | None:
    """The agreement in force that lets ``alert`` through to ``agency_id``, if any. A received
    copy of a partner's alert is never passed on to a third agency."""
    if alert.origin_alert_id is not None:
        return None
    for agreement in uow.agreements.active_from(alert.agency_id):
        if agreement.to_agency_id == agency_id and agreement.terms_for(alert, at) is not None:
            return agreement
    return None


def export_cap(uow: UnitOfWork, who: Principal, alert_id: str, *, node: str,
               console_url: str, clock: Clock) -> bytes:
    """The CAP 1.2 message of an alert: the caller's agency's own (scope Private), or a
    partner's that an agreement in force lets through to the caller's agency (Restricted)."""
    action = "alert.cap.export"
    with uow:
        require(uow, who, who.can(Permission.ALERT_READ), action, object_type="alert",
                object_id=alert_id)
        alert = uow.alerts.get(alert_id)
        now = clock()
        if alert is None:
            refuse(uow, who, action, NotFound(f"no alert {alert_id!r}"), object_type="alert",
                   object_id=alert_id)
        if alert.agency_id == who.agency_id:
            audience = Audience("Private", addresses=alert.agency_id)
            agreement_id = None
        else:
            agreement = letting_through(uow, alert, who.agency_id, now)
            if agreement is None:
                refuse(uow, who, action, NotFound(f"no alert {alert_id!r}"),
                       object_type="alert", object_id=alert_id,
                       object_agency_id=alert.agency_id,
                       internal_reason="alert of another agency; no agreement lets it through")
            audience = Audience("Restricted", restriction=(
                f"Acuerdo de intercambio «{agreement.title}» ({agreement.id}): solo para "
                f"{who.agency_id}"))
            agreement_id = agreement.id
        agency = uow.agencies.get(alert.agency_id)
        xml = export_alert(alert, node=node, agency_name=agency.name if agency else "",
                           audience=audience, console_url=console_url)
        record(uow, who, action, object_type="alert", object_id=alert.id,
               object_agency_id=alert.agency_id,
               detail={"scope": audience.scope, "agreement": agreement_id,
                       "version": alert.version}, now=now)
        uow.commit()
        return xml


# ---- import -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    """What importing one message did."""

    sender: str
    identifier: str
    sent: str
    msg_type: str
    outcome: str  # created | updated | cancelled | acknowledged | recorded
    alert_id: str | None
    duplicate: bool = False
    signed_by: str | None = None
    warnings: list[str] = field(default_factory=list)


class MessageTooLarge(InvalidInput):
    """Over the CAP size limit (the API answers 413)."""


def import_cap(uow: UnitOfWork, who: Principal, data: bytes, *, node: str, clock: Clock,
               publish: Publish | None = None) -> ImportResult:
    """Check, verify and act on one CAP message for the caller's agency (audited)."""
    action = "cap.import"
    with uow:
        require(uow, who, who.can(Permission.ALERT_RAISE), action, object_type=MESSAGE)
        if len(data) > MAX_BYTES:
            refuse(uow, who, action, MessageTooLarge(
                f"a CAP message may be at most {MAX_BYTES:,} bytes; this one is "
                f"{len(data):,}"), object_type=MESSAGE)
        check = check_cap(data)
        if not check.valid:
            refuse(uow, who, action, InvalidInput(
                _clip("not a valid CAP 1.2 message: " + "; ".join(check.errors[:3])),
                details=[{"problem": problem} for problem in check.errors[:50]]),
                object_type=MESSAGE, detail={"errors": check.errors[:20]})
        message = read_message(check.root)
        key = f"{message.sender},{message.identifier},{message.sent}"[:128]  # audit object_id
        source = uow.cap_sources.active(who.agency_id, message.sender)
        if source is None:
            refuse(uow, who, action, AccessDenied(_clip(
                f"{message.sender[:200]!r} is not a registered CAP source of your agency (an "
                "administrator registers it: sereno cap sources add)")),
                object_type=MESSAGE, object_id=key)
        signed_by = _signature(uow, who, action, source, data, signature.is_signed(check.root),
                               key, clock())
        seen = uow.cap_messages.seen(who.agency_id, message.sender, message.identifier,
                                     message.sent)
        if seen is not None:
            record(uow, who, action, object_type=MESSAGE, object_id=key,
                   object_agency_id=who.agency_id,
                   detail={"duplicate": True, "alert_id": seen["alert_id"]})
            uow.commit()
            return ImportResult(message.sender, message.identifier, message.sent,
                                str(seen["msg_type"]), "duplicate", seen["alert_id"],
                                duplicate=True, signed_by=signed_by, warnings=check.warnings)
        now = clock()
        try:
            outcome, alert = _act(uow, who, message, node, now)
        except SerenoError as error:
            refuse(uow, who, action, type(error)(_clip(error.message)), object_type=MESSAGE,
                   object_id=key)
        uow.cap_messages.add(
            agency_id=who.agency_id, sender=message.sender[:255],
            identifier=message.identifier[:255], sent=message.sent[:32],
            msg_type=message.msg_type, alert_id=alert.id if alert else None, received_at=now,
            received_by=who.username, signed_by=signed_by, xml=_as_received(data, check.root))
        record(uow, who, action, object_type=MESSAGE, object_id=key,
               object_agency_id=who.agency_id, now=now,
               detail={"msg_type": message.msg_type, "outcome": outcome,
                       "alert_id": alert.id if alert else None, "signed_by": signed_by,
                       "warnings": len(check.warnings)})
        uow.commit()
        pending = list(uow.collect_new_events())
    if publish is not None:
        for event in pending:
            publish(event)
    return ImportResult(message.sender, message.identifier, message.sent, message.msg_type,
                        outcome, alert.id if alert else None, signed_by=signed_by,
                        warnings=check.warnings)


def _signature(uow: UnitOfWork, who: Principal, action: str, source: CapSource, data: bytes,
               signed: bool, key: str, at: datetime) -> str | None:
    """The pinned certificate's fingerprint when the signature verifies; None for an unsigned
    message a source may send; a refusal otherwise. Never trusts a key inside the message."""
    problem: str | None = None
    if source.certificate_pem is None:
        if signed:
            problem = (f"the message is signed but no certificate is pinned for "
                       f"{source.sender!r}: its signature cannot be checked (pin the "
                       "sender's certificate with sereno cap sources add --certificate)")
    elif not signed:
        if source.require_signature:
            problem = f"{source.sender!r} must sign its messages and this one is not signed"
    else:
        try:
            return signature.verify(data, source.certificate_pem, at)
        except signature.SignatureRefused as error:
            problem = str(error)
    if problem is not None:
        refuse(uow, who, action, InvalidInput(_clip(problem)), object_type=MESSAGE,
               object_id=key,
               detail={"pinned": source.fingerprint})
    return None


def _clip(text: str, limit: int = 480) -> str:
    """A refusal's message short enough for the audit record's reason."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _as_received(data: bytes, root: Any) -> str:
    encoding = root.getroottree().docinfo.encoding or "utf-8"
    try:
        return data.decode(encoding)
    except (LookupError, UnicodeDecodeError):
        return data.decode("utf-8", errors="replace")


def _act(uow: UnitOfWork, who: Principal, message: CapMessage, node: str,
         now: datetime) -> tuple[str, Alert | None]:
    kind = message.msg_type
    if kind in ("Update", "Cancel"):
        target = _referenced(uow, who.agency_id, message)
        if target is not None and kind == "Cancel":
            if target.status.active:
                target.cancel(now)
                _changed(uow, target, ActionKind.CANCELLED, message, now)
            return "cancelled", target
        if target is not None:
            content = message.content or without_info(message.sender, message.identifier)
            target.update_from_source(now, **_changes(content))
            _changed(uow, target, ActionKind.UPDATED, message, now)
            return "updated", target
        if kind == "Cancel":  # of something we never received: kept on record only
            return "recorded", None
    if kind in ("Alert", "Update"):
        return "created", _create(uow, who, message, now)
    if kind == "Ack":
        acknowledged = _acknowledged(uow, who, message, node, now)
        return ("acknowledged", acknowledged) if acknowledged else ("recorded", None)
    return "recorded", None  # Error


def _changes(content: AlertContent) -> dict[str, Any]:
    return {"category": parse_enum(Category, content.category, "category"),
            "severity": parse_enum(Severity, content.severity, "severity"),
            "urgency": parse_enum(Urgency, content.urgency, "urgency"),
            "certainty": parse_enum(Certainty, content.certainty, "certainty"),
            "event": content.event, "headline": content.headline,
            "description": content.description, "latitude": content.latitude,
            "longitude": content.longitude, "area": content.area}


def _create(uow: UnitOfWork, who: Principal, message: CapMessage, now: datetime) -> Alert:
    content = message.content or without_info(message.sender, message.identifier)
    alert = Alert.raise_new(
        alert_id=str(uuid.uuid4()), agency_id=who.agency_id, source=AlertSource.EXTERNAL,
        category=content.category, severity=content.severity, urgency=content.urgency,
        certainty=content.certainty, event=content.event, headline=content.headline,
        description=content.description, at=message.sent_at, by=f"cap:{message.sender}"[:64],
        latitude=content.latitude, longitude=content.longitude, area=content.area,
        cap_sender=message.sender[:255], cap_identifier=message.identifier[:255],
        cap_sent=message.sent[:32])
    alert.updated_at = now
    uow.alerts.add(alert)
    uow.alerts.add_action(AlertAction(alert.id, ActionKind.RAISED, who.username, now, None,
                                      {"source": "external", "cap_sender": message.sender,
                                       "cap_identifier": message.identifier}))
    uow.emit(events.AlertRaised(alert.id, alert.agency_id, alert.source.value,
                                alert.category.value, alert.severity.value, alert.headline,
                                alert.raised_at))
    return alert


def _changed(uow: UnitOfWork, alert: Alert, kind: ActionKind, message: CapMessage,
             now: datetime) -> None:
    uow.alerts.add_action(AlertAction(alert.id, kind, f"cap:{message.sender}"[:64], now, None,
                                      {"cap_identifier": message.identifier,
                                       "cap_sent": message.sent}))
    uow.emit(events.AlertChanged(alert.id, alert.agency_id, kind.value, alert.status.value,
                                 alert.version, now))


def _referenced(uow: UnitOfWork, agency_id: str, message: CapMessage) -> Alert | None:
    """The alert of the caller's agency an Update/Cancel refers to, newest reference first.
    Only the sender's own messages count: one source never changes another's alerts."""
    for reference in reversed(message.references):
        if reference.sender != message.sender:
            continue
        seen = uow.cap_messages.seen(agency_id, reference.sender, reference.identifier,
                                     reference.sent)
        alert = uow.alerts.get(seen["alert_id"]) if seen and seen["alert_id"] else None
        if alert is None:
            alert = uow.alerts.by_cap(agency_id, reference.sender, reference.identifier)
        if alert is not None and alert.agency_id == agency_id:
            return alert
    return None


def _acknowledged(uow: UnitOfWork, who: Principal, message: CapMessage, node: str,
                  now: datetime) -> Alert | None:
    """A partner's Ack of one of the caller's agency's own exported messages, noted on it."""
    ours = sender_id(node, who.agency_id)
    for reference in message.references:
        alert_id = alert_id_of(reference.identifier, node) if reference.sender == ours else None
        alert = uow.alerts.get(alert_id) if alert_id else None
        if alert is not None and alert.agency_id == who.agency_id:
            uow.alerts.add_action(AlertAction(
                alert.id, ActionKind.PARTNER_ACKNOWLEDGED, f"cap:{message.sender}"[:64], now,
                message.note, {"cap_identifier": message.identifier}))
            return alert
    return None


# ---- the Atom feed ----------------------------------------------------------------------------


def agency_feed(uow: UnitOfWork, who: Principal, agency_id: str, *, node: str, base_url: str,
                clock: Clock) -> bytes:
    """The Atom feed of ``agency_id``'s alerts the caller's agency may see: all of its own, or
    what an agreement in force from ``agency_id`` lets through (403 without one)."""
    action = "cap.feed.read"
    with uow:
        require(uow, who, who.can(Permission.ALERT_READ), action, object_type="agency",
                object_id=agency_id)
        agency = uow.agencies.get(agency_id)
        if agency is None:
            refuse(uow, who, action, NotFound(f"no agency {agency_id!r}"),
                   object_type="agency", object_id=agency_id)
        now = clock()
        if agency_id == who.agency_id:
            chosen = list(uow.alerts.queue(agency_id, limit=FEED_LIMIT))
            agreements: list[str] = []
        else:
            in_force = [a for a in uow.agreements.active_from(agency_id)
                        if a.to_agency_id == who.agency_id and a.in_force(now)]
            if not in_force:
                refuse(uow, who, action, AccessDenied(
                    f"no sharing agreement in force from {agency_id} to your agency"),
                    object_type="agency", object_id=agency_id, object_agency_id=agency_id)
            chosen = [alert for alert in uow.alerts.queue(agency_id, limit=5 * FEED_LIMIT)
                      if alert.origin_alert_id is None
                      and any(a.terms_for(alert, now) for a in in_force)][:FEED_LIMIT]
            agreements = [a.id for a in in_force]
        base = base_url.rstrip("/")
        entries = [atom.Entry(
            id=alert_identifier(node, alert.id), title=alert.headline,
            summary=f"{alert.event} · {alert.severity.value} · {alert.status.value}",
            published=alert.raised_at, updated=alert.updated_at or alert.raised_at,
            cap_url=f"{base}/api/v1/alerts/{alert.id}/cap",
            categories=(alert.category.value, alert.severity.value)) for alert in chosen]
        document = atom.feed(
            feed_id=f"urn:sereno:{node}:feed:{agency_id}", title=f"Alertas de {agency.name}",
            author=agency.name, self_url=f"{base}/api/v1/cap/feeds/{agency_id}.atom",
            updated=now, entries=entries)
        record(uow, who, action, object_type="agency", object_id=agency_id,
               object_agency_id=agency_id, now=now,
               detail={"count": len(entries), "agreements": agreements})
        uow.commit()
        return document


# ---- registered sources -----------------------------------------------------------------------


def add_source(uow: UnitOfWork, who: Principal, *, sender: str, name: str,
               certificate_pem: str | None, require_signature: bool,
               clock: Clock) -> CapSource:
    """Register (or re-pin) a sender the caller's agency imports CAP from (admins)."""
    action = "cap.source.add"
    with uow:
        require(uow, who, who.can(Permission.EXCHANGE_MANAGE), action, object_type=SOURCE)
        now = clock()
        try:
            pem = fingerprint = None
            if certificate_pem and certificate_pem.strip():
                certificate = signature.load_certificate(certificate_pem)
                pem, fingerprint = certificate_pem.strip(), signature.fingerprint(certificate)
            source = CapSource.register(
                source_id=str(uuid.uuid4()), agency_id=who.agency_id, sender=sender, name=name,
                certificate_pem=pem, fingerprint=fingerprint,
                require_signature=require_signature, by=who.username, at=now)
        except ValueError as error:
            refuse(uow, who, action, InvalidInput(str(error)), object_type=SOURCE,
                   object_id=sender[:64])
        except InvalidInput as error:
            refuse(uow, who, action, error, object_type=SOURCE, object_id=sender[:64])
        previous = uow.cap_sources.active(who.agency_id, source.sender)
        if previous is not None:
            uow.cap_sources.retire(previous.id, who.username, now)
        uow.cap_sources.add(source)
        record(uow, who, action, object_type=SOURCE, object_id=source.id,
               object_agency_id=who.agency_id, now=now,
               detail={"sender": source.sender, "fingerprint": fingerprint,
                       "require_signature": require_signature,
                       "replaces": previous.id if previous else None})
        uow.commit()
        return source


def list_sources(uow: UnitOfWork, who: Principal) -> list[CapSource]:
    """The caller's agency's registered CAP sources (admins)."""
    action = "cap.source.list"
    with uow:
        require(uow, who, who.can(Permission.EXCHANGE_MANAGE), action, object_type=SOURCE)
        found = list(uow.cap_sources.of_agency(who.agency_id))
        record(uow, who, action, object_type=SOURCE, object_agency_id=who.agency_id,
               detail={"count": len(found)})
        uow.commit()
        return found
