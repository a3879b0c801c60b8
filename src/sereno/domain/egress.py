"""The registry of approved outbound destinations: the only places Sereno may send anything.

A destination is an origin (scheme, host, port) plus an optional path prefix, registered by an
agency for one purpose (a federation peer, a webhook, an export destination, map tiles). It is
*pending* until a second person approves it and *revoked* for ever once revoked (register it again
to allow it again, which needs a new approval). Only approved, unrevoked destinations match.

Targets are compared in a normalised form: lower-case scheme and host, IDNA (punycode) host names,
IP literals in their canonical text, explicit ports, no user-info, no dot segments in the path.
"""

from __future__ import annotations

import ipaddress
import posixpath
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import unquote, urlsplit

from sereno.domain.errors import AccessDenied, Conflict, InvalidInput


class DestinationPurpose(StrEnum):
    FEDERATION_PEER = "federation_peer"
    WEBHOOK = "webhook"
    EXPORT_DESTINATION = "export_destination"
    MAP_TILES = "map_tiles"
    MQTT = "mqtt"  # an MQTT broker that alert integrations publish to (ADR 0029)


class DataClass(StrEnum):
    """What an outbound request carries. ``media`` and ``personal_data`` blocked on their way out
    open a breach case; the caller declares it (and declares the strongest class it carries)."""

    MEDIA = "media"                  # pictures, video, clips, snapshots
    PERSONAL_DATA = "personal_data"  # plates, names, faces, tracks of identifiable people
    OPERATIONAL = "operational"      # alerts, incidents, camera registry facts, no personal data
    NONE = "none"                    # nothing of ours (a GET for tiles, a health check)

    @property
    def protected(self) -> bool:
        return self in (DataClass.MEDIA, DataClass.PERSONAL_DATA)


class DestinationState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REVOKED = "revoked"


DEFAULT_PORTS = {"https": 443, "http": 80, "mqtts": 8883, "mqtt": 1883}
HTTP_SCHEMES = ("http", "https")
MQTT_SCHEMES = ("mqtt", "mqtts")  # an MQTT broker; its path prefix limits the topics
PLAIN_SCHEMES = frozenset({"http", "mqtt"})  # unencrypted: loopback only


@dataclass(frozen=True)
class Target:
    """A normalised outbound target."""

    scheme: str
    host: str  # lower-case IDNA name, or canonical IP literal (IPv6 without brackets)
    port: int
    path: str = "/"

    @property
    def origin(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = DEFAULT_PORTS[self.scheme] == self.port
        return f"{self.scheme}://{host}" + ("" if default else f":{self.port}")

    @property
    def url(self) -> str:
        return self.origin + self.path

    @property
    def ip(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        """The host as an address when it is an IP literal."""
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None

    @property
    def is_loopback(self) -> bool:
        ip = self.ip
        return self.host == "localhost" if ip is None else ip.is_loopback


def normalise_host(host: str) -> str:
    """Lower-case IDNA host name or canonical IP literal; ``InvalidInput`` when unusable."""
    text = host.strip().rstrip(".").lower()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if not text:
        raise InvalidInput("the URL has no host")
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    if any(c in text for c in "%/\\@ {}") or text.replace(".", "").isdigit():
        # "{s}" templates, encoded or odd hosts, and numeric forms like 2130706433 or 127.1
        # (which resolvers read as addresses) are refused rather than guessed at.
        raise InvalidInput(f"unusable host {host!r}")
    try:
        encoded = text.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidInput(f"unusable host {host!r}") from None
    labels = encoded.split(".")
    if any(not label or len(label) > 63 for label in labels) or len(encoded) > 253:
        raise InvalidInput(f"unusable host {host!r}")
    return encoded


def normalise_path(path: str) -> str:
    """The path with no dot segments, no backslashes and no encoded slashes or dots."""
    raw = path or "/"
    decoded = unquote(raw)
    if "\\" in decoded or "\x00" in decoded or "%2f" in raw.lower():
        raise InvalidInput("the URL path has backslashes, NUL or encoded slashes")
    if not decoded.startswith("/"):
        decoded = "/" + decoded
    segments = decoded.split("/")
    if any(s in (".", "..") for s in segments):
        raise InvalidInput("the URL path has dot segments")
    normal = posixpath.normpath(decoded)
    return normal + ("/" if decoded.endswith("/") and normal != "/" else "")


def parse_target(url: str, schemes: tuple[str, ...] = HTTP_SCHEMES) -> Target:
    """A URL as a normalised ``Target``; ``InvalidInput`` for anything that is not a plain
    http(s) URL (or one of ``schemes``; user-info, fragments and non-numeric ports are refused).
    The query is dropped: destinations are matched on origin and path."""
    text = url.strip()
    if any(ord(c) < 0x21 for c in text):
        raise InvalidInput("the URL has spaces or control characters")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as error:
        raise InvalidInput(f"not a usable URL: {error}") from None
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        raise InvalidInput(f"only {' and '.join(schemes)} destinations exist here")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise InvalidInput("credentials in the URL are not allowed")
    if parts.fragment:
        raise InvalidInput("the URL has a fragment")
    host = normalise_host(parts.hostname or "")
    return Target(scheme, host, port or DEFAULT_PORTS[scheme], normalise_path(parts.path))


def path_within(path: str, prefix: str) -> bool:
    """``path`` is ``prefix`` or below it (on a segment boundary)."""
    if prefix in ("", "/"):
        return True
    base = prefix.rstrip("/")
    return path == base or path.startswith(base + "/")


@dataclass(eq=False)
class EgressDestination:
    """One registered destination of one agency."""

    id: str
    agency_id: str
    name: str
    purpose: DestinationPurpose
    scheme: str
    host: str
    port: int
    path_prefix: str
    registered_by_id: str
    registered_by: str
    registered_at: datetime
    note: str | None = None
    approved_by_id: str | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    revoked_by: str | None = None
    revoked_at: datetime | None = None
    revoke_reason: str | None = None

    @classmethod
    def register(cls, *, destination_id: str, agency_id: str, name: str, purpose: str, url: str,
                 by_id: str, by: str, at: datetime, note: str | None = None
                 ) -> EgressDestination:
        """A pending destination; ``InvalidInput`` when the URL or purpose is unusable.

        Plain http is accepted only for a loopback host (tests and local tools): everything that
        leaves the machine goes over TLS.
        """
        label = name.strip()
        if not 0 < len(label) <= 120:
            raise InvalidInput("name must be 1 to 120 characters")
        try:
            kind = DestinationPurpose(purpose)
        except ValueError:
            known = ", ".join(p.value for p in DestinationPurpose)
            raise InvalidInput(f"unknown purpose {purpose!r} (known: {known})") from None
        mqtt = kind is DestinationPurpose.MQTT  # a broker: mqtts://host:8883/topic-prefix
        target = parse_target(url, MQTT_SCHEMES if mqtt else HTTP_SCHEMES)
        if target.scheme in PLAIN_SCHEMES and not target.is_loopback:
            raise InvalidInput("destinations outside this machine must use "
                               + ("mqtts" if mqtt else "https"))
        ip = target.ip
        if ip is not None and (ip.is_unspecified or ip.is_multicast or ip.is_link_local):
            raise InvalidInput(f"{target.host} cannot be a destination")
        return cls(id=destination_id, agency_id=agency_id, name=label, purpose=kind,
                   scheme=target.scheme, host=target.host, port=target.port,
                   path_prefix=target.path.rstrip("/") or "/", registered_by_id=by_id,
                   registered_by=by, registered_at=at, note=(note or "").strip()[:500] or None)

    @property
    def state(self) -> DestinationState:
        if self.revoked_at is not None:
            return DestinationState.REVOKED
        if self.approved_at is not None:
            return DestinationState.APPROVED
        return DestinationState.PENDING

    @property
    def target(self) -> Target:
        return Target(self.scheme, self.host, self.port, self.path_prefix)

    @property
    def url(self) -> str:
        return self.target.url

    def approve(self, *, by_id: str, by: str, at: datetime) -> None:
        """Four eyes: never by the person who registered it."""
        if self.state is not DestinationState.PENDING:
            raise Conflict(f"the destination is {self.state.value}")
        if by_id == self.registered_by_id:
            raise AccessDenied("a destination must be approved by someone other than the "
                               "person who registered it")
        self.approved_by_id, self.approved_by, self.approved_at = by_id, by, at

    def revoke(self, *, by: str, at: datetime, reason: str) -> None:
        if self.state is DestinationState.REVOKED:
            raise Conflict("the destination is already revoked")
        text = reason.strip()
        if not 0 < len(text) <= 500:
            raise InvalidInput("a revocation needs a reason (1 to 500 characters)")
        self.revoked_by, self.revoked_at, self.revoke_reason = by, at, text

    def allows(self, target: Target, purpose: DestinationPurpose) -> bool:
        """True when this destination is approved and covers ``target`` for ``purpose``."""
        return (self.state is DestinationState.APPROVED and self.purpose is purpose
                and (self.scheme, self.host, self.port) == (target.scheme, target.host,
                                                            target.port)
                and path_within(target.path, self.path_prefix))
