"""An Atom 1.0 feed (RFC 4287) of alerts, each entry linking to its CAP 1.2 message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lxml import etree

ATOM_NS = "http://www.w3.org/2005/Atom"
CAP_MEDIA_TYPE = "application/cap+xml"


@dataclass(frozen=True)
class Entry:
    """One alert in a feed."""

    id: str  # the alert's CAP identifier (a URN: a valid Atom id)
    title: str
    summary: str
    published: datetime
    updated: datetime
    cap_url: str
    categories: tuple[str, ...] = ()


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _add(parent: Any, name: str, text: str | None = None, **attributes: str) -> Any:
    element = etree.SubElement(parent, f"{{{ATOM_NS}}}{name}", attributes)
    element.text = text
    return element


def feed(*, feed_id: str, title: str, author: str, self_url: str, updated: datetime,
         entries: list[Entry]) -> bytes:
    """The feed document (UTF-8). ``updated`` is used when there are no entries."""
    root = etree.Element(f"{{{ATOM_NS}}}feed", nsmap={None: ATOM_NS})
    _add(root, "id", feed_id)
    _add(root, "title", title)
    newest = max((e.updated for e in entries), default=updated)
    _add(root, "updated", _time(newest))
    _add(_add(root, "author"), "name", author)
    _add(root, "link", rel="self", type="application/atom+xml", href=self_url)
    _add(root, "generator", "Sereno")
    for item in entries:
        entry = _add(root, "entry")
        _add(entry, "id", item.id)
        _add(entry, "title", item.title)
        _add(entry, "published", _time(item.published))
        _add(entry, "updated", _time(item.updated))
        _add(entry, "link", rel="alternate", type=CAP_MEDIA_TYPE, href=item.cap_url)
        for term in item.categories:
            _add(entry, "category", term=term)
        _add(entry, "summary", item.summary or item.title)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                pretty_print=True))
