"""Reading and checking OASIS CAP 1.2 messages from other systems, safely.

Three layers, each refusing with a clear reason:

1. **Parsing** with a hardened lxml parser: no DTD loaded, no entity expanded, no network, no
   XInclude, a size and a depth limit; a message with a DOCTYPE is refused outright (CAP needs
   none, and every XML bomb or external-entity attack starts with one).
2. **The official schema** (``schema/CAP-v1.2.xsd``, © OASIS Open 2010) with ``xmlschema``.
3. **The written rules of CAP 1.2 §3 the schema cannot express**: what a message needs to be
   acted on (an Update/Cancel/Ack/Error must name what it refers to, ``references`` entries are
   ``sender,identifier,sent``, polygons are closed rings of valid coordinates, circles are
   ``lat,lon radius``, identifiers and senders contain no spaces, commas or restricted
   characters). Date-times with an explicit offset and no fractions are the schema's own
   pattern. Real feeds break some softer rules (an empty ``<references/>`` on a plain Alert):
   those are *warnings* on import; Sereno's own exports must have none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import xmlschema
from lxml import etree

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
NS = {"cap": CAP_NS}
MAX_BYTES = 2 * 1024 * 1024  # the largest alert of the test corpus is 459 kB (embedded media)
MAX_DEPTH = 12  # CAP nests five deep (alert/info/area/geocode/value); room for signatures
CAP_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")
RESTRICTED_CHARS = re.compile(r"[\s,<&]")
NEEDS_REFERENCES = frozenset({"Update", "Cancel", "Ack", "Error"})


class CapError(ValueError):
    """The message cannot be accepted; ``problems`` lists every reason found."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class CapCheck:
    """The outcome of checking a message: accepted when ``errors`` is empty."""

    root: Any = None  # the parsed lxml element when it parsed
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors


@cache
def cap_schema() -> xmlschema.XMLSchema10:
    """The OASIS CAP 1.2 schema, loaded once."""
    source = resources.files(__package__).joinpath("schema", "CAP-v1.2.xsd")
    with resources.as_file(source) as path:
        # No fallback schemas: xmlschema would otherwise load its own copy of XML-DSig and hold
        # signatures to it, where CAP says lax (a signature is checked against the pinned key
        # of the sender, not by the schema).
        return xmlschema.XMLSchema10(str(path), use_fallback=False, allow="local")


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False, remove_comments=True,
                           remove_pis=True, collect_ids=False)


def parse_cap(data: bytes) -> Any:
    """The root element of ``data``, parsed safely, or ``CapError`` saying why not."""
    if len(data) > MAX_BYTES:
        raise CapError([f"message too large: {len(data):,} bytes (limit {MAX_BYTES:,})"])
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if b"<!DOCTYPE" in head.upper() or b"<!ENTITY" in data.upper():
        raise CapError(["a DOCTYPE or entity declaration is not allowed in a CAP message"])
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as error:
        raise CapError([f"not well-formed XML: {error}"]) from None
    depth = _depth(root)
    if depth > MAX_DEPTH:
        raise CapError([f"nested {depth} levels deep (limit {MAX_DEPTH})"])
    if root.tag != f"{{{CAP_NS}}}alert":
        raise CapError([f"the root element is {root.tag}, not a CAP 1.2 alert "
                        f"({{{CAP_NS}}}alert)"])
    return root


def _depth(element: Any) -> int:
    deepest, stack = 1, [(element, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if level <= MAX_DEPTH:
            stack.extend((child, level + 1) for child in node)
    return deepest


def check_cap(data: bytes, *, strict: bool = False) -> CapCheck:
    """Parse and check ``data``. ``strict`` (our own exports) turns warnings into errors."""
    result = CapCheck()
    try:
        result.root = parse_cap(data)
    except CapError as error:
        result.errors.extend(error.problems)
        return result
    for problem in cap_schema().iter_errors(result.root):
        path = problem.path or ""
        result.errors.append(f"schema: {path} {problem.reason or problem.message}".strip())
    if result.errors:
        return result
    _section3(result.root, result)
    if strict:
        result.errors.extend(result.warnings)
        result.warnings = []
    return result


def _text(element: Any, path: str) -> str | None:
    found = element.find(path, NS)
    return None if found is None or found.text is None else found.text.strip()


def _section3(root: Any, result: CapCheck) -> None:
    """CAP 1.2 §3 rules the schema leaves out."""
    for name in ("identifier", "sender"):
        value = _text(root, f"cap:{name}") or ""
        if RESTRICTED_CHARS.search(value):
            result.errors.append(f"{name} {value!r} contains spaces, commas or restricted "
                                 "characters (§3.2.1)")
    msg_type = _text(root, "cap:msgType")
    references = _text(root, "cap:references")
    present = root.find("cap:references", NS) is not None
    if msg_type in NEEDS_REFERENCES and not references:
        result.errors.append(f"a {msg_type} must name the message(s) it refers to in "
                             "<references> (§3.2.1)")
    elif present and not references:
        result.warnings.append("empty <references/> (§3.2.1: one or more "
                               "sender,identifier,sent)")
    for entry in (references or "").split():
        parts = entry.split(",")
        if len(parts) != 3 or not all(parts) or not CAP_DATETIME.match(parts[2]):
            result.errors.append(f"reference {entry!r} is not sender,identifier,sent with a "
                                 "CAP date-time (§3.2.1)")
    scope = _text(root, "cap:scope")
    if scope == "Restricted" and not _text(root, "cap:restriction"):
        result.errors.append("scope Restricted needs a <restriction> (§3.2.1)")
    if scope == "Private" and not _text(root, "cap:addresses"):
        result.errors.append("scope Private needs <addresses> (§3.2.1)")
    for polygon in root.iterfind("cap:info/cap:area/cap:polygon", NS):
        _polygon(polygon.text or "", result)
    for circle in root.iterfind("cap:info/cap:area/cap:circle", NS):
        _circle(circle.text or "", result)


def _pair(text: str) -> tuple[float, float] | None:
    try:
        lat, lon = (float(v) for v in text.split(","))
    except ValueError:
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon


def _polygon(text: str, result: CapCheck) -> None:
    points = [_pair(p) for p in text.split()]
    if any(p is None for p in points):
        result.errors.append("polygon has a point that is not lat,lon in WGS 84 range (§3.2.4)")
    elif len(points) < 4:
        result.errors.append(f"polygon has {len(points)} points; a ring needs 4 or more "
                             "(§3.2.4)")
    elif points[0] != points[-1]:
        result.errors.append("polygon is not closed: its first and last points differ (§3.2.4)")


def _circle(text: str, result: CapCheck) -> None:
    centre, _, radius = text.strip().partition(" ")
    try:
        ok = _pair(centre) is not None and float(radius) >= 0
    except ValueError:
        ok = False
    if not ok:
        result.errors.append(f"circle {text.strip()[:60]!r} is not 'lat,lon radius_km' "
                             "(§3.2.4)")
