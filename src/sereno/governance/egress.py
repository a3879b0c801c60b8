"""The one outbound HTTP client. Nothing else in Sereno opens a connection to another server
(``tests/governance/test_no_other_egress.py`` parses every module to keep it that way).

Every request — and every redirect hop — is checked before a byte leaves:

1. The URL is normalised (``domain.egress.parse_target``): http(s) only, no user-info, IDNA host,
   canonical IP literal, explicit port, no dot segments or encoded slashes in the path.
2. It must fall under an *approved, unrevoked* destination of the caller's agency registered for
   the request's purpose (federation peer, webhook, export destination, map tiles).
3. TLS is required (certificates verified against the system store). Plain http is possible only
   to a loopback address and only when ``egress.allow_plain_http_loopback`` is on (tests).
4. The host name is resolved once; a name must resolve to public (globally routable) addresses
   only, so that a registered name re-pointed at an internal address (DNS rebinding) is refused.
   The connection then goes to the checked address (TLS still verifies the registered name), so
   the name cannot be re-resolved elsewhere between the check and the connection. Destinations
   on a private network are registered by IP literal.
5. Redirects are followed (up to ``max_redirects``) only by running the same checks on the new
   location: a redirect to an unregistered host is blocked like a direct request.
6. Environment proxies (``HTTP_PROXY``…) are never used: ``http.client`` does not read them.

A blocked request raises ``EgressBlocked`` after committing, in its own transaction: an audit
record (outcome denied; destination, caller, purpose, data class and size of what it tried to
send), a high-severity ``egress_blocked`` security alert and — when it carried media or personal
data — a breach case with its LOPDP deadlines. An allowed request is audited *before* it is sent.
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import urljoin, urlsplit

from sereno.domain.access import Principal
from sereno.domain.audit import Outcome
from sereno.domain.egress import (
    PLAIN_SCHEMES,
    DataClass,
    DestinationPurpose,
    EgressDestination,
    Target,
)
from sereno.domain.egress import parse_target as _parse_target
from sereno.domain.errors import AccessDenied, InvalidInput, SerenoError
from sereno.domain.events import Event
from sereno.services.audit import Clock, record, utcnow
from sereno.services.breaches import open_breach_case
from sereno.services.egress import approved_destination
from sereno.services.security import raise_security_alert
from sereno.services.unit_of_work import UnitOfWorkFactory

REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
ACTION = "egress.send"
OBJECT = "egress_destination"

Resolver = Callable[[str, int], Sequence[str]]


class EgressBlocked(AccessDenied):
    """The destination is not an approved one (or not reachable safely); nothing was sent."""

    code = "egress_blocked"

    def __init__(self, message: str, *, alert_id: str, breach_case_id: str | None) -> None:
        super().__init__(message)
        self.alert_id = alert_id
        self.breach_case_id = breach_case_id


class EgressFailed(SerenoError):
    """The destination was allowed but the exchange failed (DNS, connection, TLS, timeout)."""

    code = "egress_failed"


@dataclass(frozen=True)
class EgressResponse:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes
    url: str
    destination_id: str


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the system resolver)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]).split("%")[0] for info in infos})


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to an already checked address; the Host header keeps the registered name."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to an already checked address, verifying the certificate for the registered name."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float,
                 context: ssl.SSLContext) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address
        self._tls = context

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def _shown(url: str) -> str:
    """A URL fit for the audit log: no user-info, no query, at most 300 characters."""
    return re.sub(r"//[^/@]*@", "//", url.split("?", 1)[0].split("#", 1)[0])[:300]


class _Refusal(Exception):
    def __init__(self, reason: str, target: Target | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.target = target


class EgressClient:
    """Sends HTTP requests to approved destinations only. Thread-safe (no shared state but the
    configuration); each call opens its own connection."""

    def __init__(self, uow_factory: UnitOfWorkFactory, *, clock: Clock = utcnow,
                 publish: Callable[[Event], None] | None = None,
                 allow_plain_http_loopback: bool = False, timeout_s: float = 15.0,
                 max_response_bytes: int = MAX_RESPONSE_BYTES,
                 resolver: Resolver = system_resolver,
                 tls_context: ssl.SSLContext | None = None) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self.publish = publish
        self.allow_plain_http_loopback = allow_plain_http_loopback
        self.timeout_s = timeout_s
        self.max_response_bytes = max_response_bytes
        self.resolver = resolver
        self.tls_context = tls_context or ssl.create_default_context()

    # -- the one entry point ---------------------------------------------------------------------

    def send(self, who: Principal, *, purpose: str, method: str, url: str, data_class: str,
             body: bytes | None = None, headers: Mapping[str, str] | None = None,
             max_redirects: int = 3, camera_ids: Sequence[str] = (),
             records: Sequence[str] = (), timeout_s: float | None = None) -> EgressResponse:
        """Send one request for ``who`` (a user, or ``Principal.system(component, agency)``).

        ``purpose`` is a ``DestinationPurpose`` value and ``data_class`` the most sensitive
        ``DataClass`` the request carries (``media``, ``personal_data``, ``operational``,
        ``none``); ``camera_ids``/``records`` name what the payload came from (they go to the
        breach case if the request is blocked). Raises ``EgressBlocked`` (nothing sent; audited,
        alerted, breach case when media or personal data) or ``EgressFailed``; ``ValueError`` for
        an unknown purpose or data class (a programming error).
        """
        kind = DestinationPurpose(purpose)
        carried = DataClass(data_class)
        verb = method.upper()
        if not re.fullmatch(r"[A-Z]{3,10}", verb):
            raise ValueError(f"not an HTTP method: {method!r}")
        payload = body or b""
        sent_headers = {k: v for k, v in (headers or {}).items()
                        if k.lower() not in ("host", "connection", "content-length")}
        current, hop = url, 0
        while True:
            destination, target, address = self._check(
                who, kind, carried, verb, current, len(payload), hop, camera_ids, records)
            response = self._exchange(target, address, verb, current, payload or None,
                                      sent_headers, timeout_s or self.timeout_s, destination)
            location = response.headers.get("location")
            if response.status not in REDIRECTS or not location or hop >= max_redirects:
                return response
            current = urljoin(current, location)
            if response.status == 303 or (response.status in (301, 302)
                                          and verb not in ("GET", "HEAD")):
                verb, payload = "GET", b""
            hop += 1

    # -- checks ------------------------------------------------------------------------------------

    def _check(self, who: Principal, purpose: DestinationPurpose, carried: DataClass,
               method: str, url: str, size: int, hop: int, camera_ids: Sequence[str],
               records: Sequence[str]) -> tuple[EgressDestination, Target, str]:
        facts: dict[str, Any] = {
            "url": _shown(url), "method": method, "purpose": purpose.value,
            "data_class": carried.value, "bytes": size, "hop": hop, "caller": who.username}
        try:
            target = self._target(url)
        except _Refusal as refusal:
            self._block(who, refusal, carried, facts, camera_ids, records)
        return self._admit(who, purpose, carried, target, facts, camera_ids, records)

    def authorize_connection(self, who: Principal, *, purpose: str, target: Target,
                             data_class: str, protocol: str, size: int,
                             records: Sequence[str] = ()) -> tuple[EgressDestination, str]:
        """Check a connection that is not HTTP (an MQTT broker, ADR 0029) as ``send`` checks a
        request: an approved, unrevoked destination of ``who``'s agency for ``purpose`` covering
        ``target`` (scheme, host, port, path prefix); plain text only to loopback and only when
        allowed; a host name only when it resolves to public addresses. Audited either way
        (``egress.send``). Returns the destination and the address to connect to; raises
        ``EgressBlocked`` (nothing may be sent: audited, alerted, a breach case for media or
        personal data) or ``EgressFailed``."""
        kind, carried = DestinationPurpose(purpose), DataClass(data_class)
        facts: dict[str, Any] = {
            "url": _shown(target.url), "method": protocol, "purpose": kind.value,
            "data_class": carried.value, "bytes": size, "hop": 0, "caller": who.username}
        try:
            self._plain_text_check(target)
        except _Refusal as refusal:
            self._block(who, refusal, carried, facts, (), records)
        destination, _, address = self._admit(who, kind, carried, target, facts, (), records)
        return destination, address

    def _admit(self, who: Principal, purpose: DestinationPurpose, carried: DataClass,
               target: Target, facts: dict[str, Any], camera_ids: Sequence[str],
               records: Sequence[str]) -> tuple[EgressDestination, Target, str]:
        try:
            with self.uow_factory() as uow:
                destination = approved_destination(uow, who.agency_id, purpose, target)
            if destination is None:
                raise _Refusal(f"{target.origin}{target.path} is not an approved "
                               f"{purpose.value} destination of {who.agency_id}", target)
            address = self._address(target)
        except _Refusal as refusal:
            self._block(who, refusal, carried, facts, camera_ids, records)
        with self.uow_factory() as uow:
            record(uow, who, ACTION, object_type=OBJECT, object_id=destination.id,
                   object_agency_id=destination.agency_id, now=self.clock(),
                   detail={**facts, "url": _shown(target.url), "address": address})
            uow.commit()
        return destination, target, address

    def _target(self, url: str) -> Target:
        try:
            target = _parse_target(url)
        except InvalidInput as error:
            raise _Refusal(f"unusable destination URL: {error.message}", None) from None
        self._plain_text_check(target)
        return target

    def _plain_text_check(self, target: Target) -> None:
        if target.scheme in PLAIN_SCHEMES:
            if not target.is_loopback:
                raise _Refusal(f"plain {target.scheme} leaves the machine unencrypted; "
                               "TLS is required", target)
            if not self.allow_plain_http_loopback:
                raise _Refusal(f"plain {target.scheme} is disabled "
                               "(egress.allow_plain_http_loopback)", target)

    def _address(self, target: Target) -> str:
        """The address to connect to, after the DNS checks."""
        if target.ip is not None:
            return target.host
        if target.host == "localhost":
            return "127.0.0.1"  # never ask a resolver what localhost is
        try:
            addresses = list(self.resolver(target.host, target.port))
        except OSError as error:
            raise EgressFailed(f"cannot resolve {target.host}: {error}") from None
        if not addresses:
            raise EgressFailed(f"{target.host} resolves to no address")
        for text in addresses:
            address = ipaddress.ip_address(text)
            if not address.is_global:
                raise _Refusal(f"{target.host} resolves to the non-public address {address} "
                               "(DNS rebinding?); register private peers by IP address",
                               target)
        return addresses[0]

    def _block(self, who: Principal, refusal: _Refusal, carried: DataClass,
               facts: dict[str, Any], camera_ids: Sequence[str], records: Sequence[str]
               ) -> NoReturn:
        target = refusal.target
        shown = f"{target.origin}{target.path}" if target else facts["url"]
        detail = {**facts, "url": shown, "reason": refusal.reason}
        with self.uow_factory() as uow:
            now = self.clock()
            alert = raise_security_alert(
                uow, agency_id=who.agency_id, kind="egress_blocked", severity="high",
                summary=(f"blocked {facts['method']} of {facts['bytes']} bytes "
                         f"({carried.value}) to {target.origin if target else shown}"),
                detail=detail, now=now)
            case_id = None
            if carried.protected:
                case = open_breach_case(
                    uow, agency_id=who.agency_id, trigger="egress_blocked",
                    description=(f"{who.username} tried to send {facts['bytes']} bytes of "
                                 f"{carried.value} to {shown}, which is not an approved "
                                 f"destination; the transfer was blocked. {refusal.reason}"),
                    detail={**detail, "alert_id": alert.id}, now=now,
                    data_classes=[carried.value], camera_ids=camera_ids, records=records,
                    raise_alert=False)
                case_id = case.id
            record(uow, who, ACTION, outcome=Outcome.DENIED, object_type=OBJECT,
                   object_agency_id=who.agency_id, reason=refusal.reason[:500], now=now,
                   detail={**detail, "alert_id": alert.id, "breach_case_id": case_id})
            uow.commit()
            raised = list(uow.collect_new_events())
        if self.publish is not None:
            for event in raised:
                self.publish(event)
        raise EgressBlocked(f"egress blocked: {refusal.reason}", alert_id=alert.id,
                            breach_case_id=case_id)

    # -- the exchange --------------------------------------------------------------------------

    def _exchange(self, target: Target, address: str, method: str, url: str,
                  body: bytes | None, headers: dict[str, str], timeout: float,
                  destination: EgressDestination) -> EgressResponse:
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection: http.client.HTTPConnection
        if target.scheme == "https":
            connection = _PinnedHTTPSConnection(target.host, target.port, address=address,
                                                timeout=timeout, context=self.tls_context)
        else:
            connection = _PinnedHTTPConnection(target.host, target.port, address=address,
                                               timeout=timeout)
        try:
            connection.request(method, path, body=body,
                               headers={"User-Agent": "Sereno-egress", **headers,
                                        "Connection": "close"})
            response = connection.getresponse()
            data = response.read(self.max_response_bytes + 1)
            if len(data) > self.max_response_bytes:
                raise EgressFailed(f"the response of {target.origin} is larger than "
                                   f"{self.max_response_bytes} bytes")
            return EgressResponse(response.status,
                                  {k.lower(): v for k, v in response.getheaders()}, data,
                                  target.origin + path, destination.id)
        except (OSError, http.client.HTTPException) as error:
            raise EgressFailed(f"{method} {target.origin} failed: {error}") from None
        finally:
            connection.close()
