"""Sereno alerts as OASIS CAP 1.2 messages (ADR 0027).

One alert is one CAP *thread*: its first version is an ``Alert`` message with the identifier
``urn:sereno:<node>:<alert id>`` sent at ``raised_at``; any later version is an ``Update``
(identifier ``…:<alert id>:<version>``, sent at ``updated_at``) and a cancelled or dismissed
alert a ``Cancel``, both referencing that first message, so a receiver that kept it can find
what they change. Times are Ecuador's (-05:00, no fractions). Every message this module builds
passes ``check_cap(strict=True)``; the tests hold it to that for every kind of alert.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from lxml import etree

from sereno.domain.alerts import Alert, AlertStatus
from sereno.exchange.cap.validation import CAP_NS

ECUADOR = timezone(timedelta(hours=-5))  # no daylight saving since 1993
LANGUAGE = "es-EC"
POINT_RADIUS_KM = 0.2  # a point alert (a camera's place) as a small circle
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class Audience:
    """Who a message is for: ``Private`` to the alert's own agency (``addresses`` = its id), or
    ``Restricted`` to a partner, with the agreement that lets the alert through named in
    ``restriction``."""

    scope: str
    restriction: str | None = None
    addresses: str | None = None


def _token(text: str) -> str:
    """``text`` with only the characters CAP identifiers and senders may carry."""
    return _UNSAFE.sub("-", text) or "-"


def sender_id(node: str, agency_id: str) -> str:
    """The CAP ``sender`` of ``agency_id``'s messages from this node."""
    return f"sereno@{_token(agency_id)}.{_token(node)}"


def alert_identifier(node: str, alert_id: str, version: int | None = None) -> str:
    """The CAP ``identifier`` of an alert's first message (``version`` None) or of a later one."""
    base = f"urn:sereno:{_token(node)}:{_token(alert_id)}"
    return base if version is None else f"{base}:{version}"


def alert_id_of(identifier: str, node: str) -> str | None:
    """The alert id inside one of this node's identifiers, or None."""
    prefix = f"urn:sereno:{_token(node)}:"
    if not identifier.startswith(prefix):
        return None
    return identifier[len(prefix):].split(":")[0] or None


def cap_datetime(moment: datetime) -> str:
    """``moment`` in Ecuador time with an explicit offset and no fractions (CAP §3.3.2)."""
    return moment.astimezone(ECUADOR).replace(microsecond=0).isoformat()


def message_type(alert: Alert) -> str:
    """``Alert`` for a first version, ``Cancel`` once withdrawn or dismissed as a false alarm,
    ``Update`` for any other later version."""
    if alert.status in (AlertStatus.CANCELLED, AlertStatus.DISMISSED):
        return "Cancel"
    return "Update" if alert.version > 1 else "Alert"


def export_alert(alert: Alert, *, node: str, agency_name: str, audience: Audience,
                 console_url: str) -> bytes:
    """The CAP 1.2 message of ``alert`` in its current state (UTF-8 bytes)."""
    sender = sender_id(node, alert.agency_id)
    kind = message_type(alert)
    first_sent = cap_datetime(alert.raised_at)
    root = etree.Element(f"{{{CAP_NS}}}alert", nsmap={None: CAP_NS})
    if kind == "Alert":
        _add(root, "identifier", alert_identifier(node, alert.id))
        _add(root, "sender", sender)
        _add(root, "sent", first_sent)
    else:
        _add(root, "identifier", alert_identifier(node, alert.id, alert.version))
        _add(root, "sender", sender)
        _add(root, "sent", cap_datetime(alert.updated_at or alert.raised_at))
    _add(root, "status", "Actual")
    _add(root, "msgType", kind)
    _add(root, "source", "Sereno")
    _add(root, "scope", audience.scope)
    if audience.restriction:
        _add(root, "restriction", audience.restriction)
    if audience.addresses:
        _add(root, "addresses", audience.addresses)
    note = _note(alert)
    if note:
        _add(root, "note", note)
    if kind != "Alert":
        _add(root, "references", f"{sender},{alert_identifier(node, alert.id)},{first_sent}")
    _info(root, alert, agency_name, console_url)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                pretty_print=True))


def _add(parent: Any, name: str, text: str | None = None) -> Any:
    element = etree.SubElement(parent, f"{{{CAP_NS}}}{name}")
    element.text = text
    return element


def _note(alert: Alert) -> str | None:
    if alert.status is AlertStatus.DISMISSED:
        return f"Descartada como falsa alarma: {alert.dismiss_reason or '-'}"
    if alert.status is AlertStatus.CANCELLED:
        return "Cancelada por su origen"
    if alert.status is AlertStatus.CLOSED:
        return f"Cerrada{': ' + alert.close_note if alert.close_note else ''}"
    return None


def _info(root: Any, alert: Alert, agency_name: str, console_url: str) -> None:
    info = _add(root, "info")
    _add(info, "language", LANGUAGE)
    _add(info, "category", alert.category.value)
    _add(info, "event", alert.event)
    _add(info, "urgency", alert.urgency.value)
    _add(info, "severity", alert.severity.value)
    _add(info, "certainty", alert.certainty.value)
    _add(info, "senderName", agency_name[:200] or alert.agency_id)
    _add(info, "headline", alert.headline)
    if alert.description:
        _add(info, "description", alert.description)
    _add(info, "web", f"{console_url.rstrip('/')}/alerts#{alert.id}")
    if alert.count > 1:
        parameter = _add(info, "parameter")
        _add(parameter, "valueName", "sereno:count")
        _add(parameter, "value", str(alert.count))
    rings = _rings(alert.area)
    if rings or alert.latitude is not None:
        area = _add(info, "area")
        where = (f"Cámaras {', '.join(alert.camera_ids)}" if alert.camera_ids
                 else "Lugar de la alerta")
        _add(area, "areaDesc", where[:200])
        for ring in rings:
            _add(area, "polygon", " ".join(f"{lat:.6f},{lon:.6f}" for lon, lat in ring))
        if alert.latitude is not None and alert.longitude is not None:
            _add(area, "circle",
                 f"{alert.latitude:.6f},{alert.longitude:.6f} {POINT_RADIUS_KM}")


def _rings(area: dict[str, Any] | None) -> list[list[tuple[float, float]]]:
    """The outer rings (lon, lat) of a GeoJSON Polygon/MultiPolygon that CAP can carry: closed,
    four points or more, in range. Anything else is left out rather than exported broken."""
    if not isinstance(area, dict):
        return []
    coordinates = area.get("coordinates") or []
    polygons = [coordinates] if area.get("type") == "Polygon" else (
        coordinates if area.get("type") == "MultiPolygon" else [])
    rings = []
    for polygon in polygons:
        try:
            ring = [(float(p[0]), float(p[1])) for p in polygon[0]]
        except (TypeError, ValueError, IndexError):
            continue
        in_range = all(-180 <= lon <= 180 and -90 <= lat <= 90 for lon, lat in ring)
        if len(ring) >= 4 and ring[0] == ring[-1] and in_range:
            rings.append(ring)
    return rings
