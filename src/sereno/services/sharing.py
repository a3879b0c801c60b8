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
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sereno.adapters.media_store import LocalMediaStore
from sereno.domain import events
from sereno.domain.access import Principal
from sereno.domain.agreements import ShareTerms
from sereno.domain.alerts import (
    ActionKind,
    Alert,
    AlertAction,
    AlertSource,
    copy_from_wire,
    update_from_wire,
)
from sereno.domain.errors import InvalidInput, NotFound
from sereno.services.audit import Clock, record
from sereno.services.unit_of_work import UnitOfWork

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
                                     "media_withheld": media_withheld}
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
