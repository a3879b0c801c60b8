"""Reading a checked CAP 1.2 message into what an alert needs (ADR 0027).

Pure: the caller has already accepted the message with ``check_cap``. The first ``info`` block
in Spanish (else English, else the first) is the alert's; values outside Sereno's vocabulary
become ``Unknown`` (``Other`` for a category); polygons become the alert's GeoJSON area and
their centroid its position, a circle's centre is the position when there is no polygon.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shapely.geometry import MultiPoint, Polygon
from shapely.ops import unary_union

from sereno.domain.alerts import HEADLINE_MAX, TEXT_MAX, Category, Certainty, Severity, Urgency
from sereno.exchange.cap.validation import NS

MAX_POLYGONS = 50
_CERTAINTY_ALIASES = {"Very Likely": "Likely"}  # CAP 1.0/1.1 wording still seen in feeds


@dataclass(frozen=True)
class Reference:
    """One ``sender,identifier,sent`` entry of ``<references>``."""

    sender: str
    identifier: str
    sent: str


@dataclass(frozen=True)
class AlertContent:
    """What the chosen ``info`` block says, in Sereno's vocabulary."""

    category: str
    severity: str
    urgency: str
    certainty: str
    event: str
    headline: str
    description: str
    language: str
    latitude: float | None = None
    longitude: float | None = None
    area: dict[str, Any] | None = None


@dataclass(frozen=True)
class CapMessage:
    """The parts of a CAP message import acts on."""

    identifier: str
    sender: str
    sent: str  # as written: the deduplication key and what references quote
    sent_at: datetime
    status: str
    msg_type: str
    scope: str
    references: list[Reference] = field(default_factory=list)
    note: str | None = None
    content: AlertContent | None = None


def read_message(root: Any) -> CapMessage:
    """The message ``root`` (an accepted ``<alert>`` element) says."""
    references = []
    for entry in (_text(root, "cap:references") or "").split():
        sender, identifier, sent = entry.split(",")  # the validator checked the shape
        references.append(Reference(sender, identifier, sent))
    sent = _text(root, "cap:sent") or ""
    infos = root.findall("cap:info", NS)
    return CapMessage(
        identifier=_text(root, "cap:identifier") or "", sender=_text(root, "cap:sender") or "",
        sent=sent, sent_at=datetime.fromisoformat(sent), status=_text(root, "cap:status") or "",
        msg_type=_text(root, "cap:msgType") or "", scope=_text(root, "cap:scope") or "",
        references=references, note=_text(root, "cap:note"),
        content=_content(_chosen(infos)) if infos else None)


def without_info(message_sender: str, identifier: str) -> AlertContent:
    """What an alert says when its message has no ``info`` block at all."""
    return AlertContent(category=Category.OTHER.value, severity=Severity.UNKNOWN.value,
                        urgency=Urgency.UNKNOWN.value, certainty=Certainty.UNKNOWN.value,
                        event="Mensaje CAP",
                        headline=_clip(f"Mensaje CAP {identifier} de {message_sender}",
                                       HEADLINE_MAX),
                        description="", language="")


def _text(element: Any, path: str) -> str | None:
    found = element.find(path, NS)
    if found is None or found.text is None:
        return None
    return str(found.text).strip() or None


def _chosen(infos: list[Any]) -> Any:
    for prefix in ("es", "en"):
        for info in infos:
            language = (_text(info, "cap:language") or "en-US").lower()
            if language == prefix or language.startswith(f"{prefix}-"):
                return info
    return infos[0]


def _known(value: str | None, kind: type[Any], fallback: str) -> str:
    value = _CERTAINTY_ALIASES.get(value or "", value or "")
    return value if value in {m.value for m in kind} else fallback


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _content(info: Any) -> AlertContent:
    categories = [c.text for c in info.findall("cap:category", NS)]
    category = next((c for c in categories if c in {m.value for m in Category}),
                    Category.OTHER.value)
    event = _clip(_text(info, "cap:event") or "Alerta CAP", HEADLINE_MAX)
    description = (_text(info, "cap:description") or "")
    if len(description) > TEXT_MAX:
        description = description[:TEXT_MAX - 1] + "…"
    latitude, longitude, area = _place(info)
    return AlertContent(
        category=category,
        severity=_known(_text(info, "cap:severity"), Severity, Severity.UNKNOWN.value),
        urgency=_known(_text(info, "cap:urgency"), Urgency, Urgency.UNKNOWN.value),
        certainty=_known(_text(info, "cap:certainty"), Certainty, Certainty.UNKNOWN.value),
        event=event, headline=_clip(_text(info, "cap:headline") or event, HEADLINE_MAX),
        description=description, language=_text(info, "cap:language") or "en-US",
        latitude=latitude, longitude=longitude, area=area)


def _pairs(text: str) -> list[tuple[float, float]]:
    """``lat,lon`` pairs as (lon, lat), GeoJSON's order."""
    points = []
    for pair in text.split():
        lat, lon = pair.split(",")
        points.append((float(lon), float(lat)))
    return points


def _place(info: Any) -> tuple[float | None, float | None, dict[str, Any] | None]:
    rings = [_pairs(p.text or "") for p in info.iterfind("cap:area/cap:polygon", NS)]
    rings = rings[:MAX_POLYGONS]
    if rings:
        shapes = [Polygon(ring) for ring in rings]
        merged = unary_union([s if s.is_valid else s.buffer(0) for s in shapes])
        centre = merged.centroid if not merged.is_empty else MultiPoint(
            [p for ring in rings for p in ring]).centroid
        coordinates = [[[list(p) for p in ring]] for ring in rings]
        area: dict[str, Any] = (
            {"type": "Polygon", "coordinates": coordinates[0]} if len(rings) == 1
            else {"type": "MultiPolygon", "coordinates": coordinates})
        return round(centre.y, 6), round(centre.x, 6), area
    for circle in info.iterfind("cap:area/cap:circle", NS):
        centre_text = (circle.text or "").split()[0]
        (lon, lat), = _pairs(centre_text)
        return lat, lon, None
    return None, None, None
