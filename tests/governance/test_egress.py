"""The egress client against real HTTP servers on loopback: approved destinations only, every
redirect hop checked, blocked attempts audited, alerted and (for media) opened as breach cases."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from sereno.bootstrap import Platform
from sereno.domain import commands, events
from sereno.domain.access import Principal
from sereno.domain.egress import EgressDestination, parse_target
from sereno.domain.errors import AccessDenied, InvalidInput
from sereno.governance.egress import EgressBlocked, EgressClient
from sereno.services.accounts import principal_for
from tests.conftest import audit_rows

JPEG = b"\xff\xd8" + b"camera picture" * 100 + b"\xff\xd9"


@dataclass
class Server:
    """A loopback HTTP server that records what reached it."""

    port: int
    received: list[tuple[str, str, bytes]] = field(default_factory=list)
    redirect_to: str | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _serve() -> Iterator[Server]:
    state = Server(0)

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            state.received.append((self.command, self.path, self.rfile.read(length)))
            if state.redirect_to and "bounce" in self.path:
                self.send_response(307)
                self.send_header("Location", state.redirect_to)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = f"got {length} bytes".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = _answer  # noqa: N815

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def approved_server() -> Iterator[Server]:
    yield from _serve()


@pytest.fixture
def stranger() -> Iterator[Server]:
    """A server nobody registered (where an insider would like the pictures to go)."""
    yield from _serve()


def _who(platform: Platform, username: str) -> Principal:
    with platform.uow() as uow:
        user = uow.users.by_username(username)
    assert user is not None
    return principal_for(user, channel="api", address=None)


def _allow(platform: Platform, url: str, purpose: str = "webhook", *,
           agency: str = "segura") -> EgressDestination:
    admin, auditor = _who(platform, f"admin.{agency}"), _who(platform, f"auditor.{agency}")
    destination = platform.bus.handle(commands.RegisterEgressDestination(
        admin, "test peer", purpose, url))
    return platform.bus.handle(commands.ApproveEgressDestination(auditor, destination.id))


@pytest.fixture
def client(platform: Platform) -> EgressClient:  # the egress client, not an HTTP test client
    return EgressClient(platform.uow, clock=platform.clock, publish=platform.bus.publish,
                        allow_plain_http_loopback=True, timeout_s=5)


SYSTEM = Principal.system("federation", "segura-ep")


def test_approved_destination_receives_the_request(platform: Platform, client: EgressClient,
                                                   approved_server: Server) -> None:
    destination = _allow(platform, approved_server.base + "/inbox")
    response = client.send(SYSTEM, purpose="webhook", method="POST",
                           url=approved_server.base + "/inbox/events?x=1", data_class="media",
                           body=JPEG, headers={"Content-Type": "image/jpeg"})
    assert response.status == 200 and response.body == f"got {len(JPEG)} bytes".encode()
    assert response.destination_id == destination.id
    assert approved_server.received == [("POST", "/inbox/events?x=1", JPEG)]
    sent = [r for r in audit_rows(platform) if r.action == "egress.send"]
    assert len(sent) == 1 and sent[0].outcome == "allowed"
    assert sent[0].object_id == destination.id and sent[0].actor_username == "system:federation"
    assert sent[0].detail["bytes"] == len(JPEG) and sent[0].detail["data_class"] == "media"


def test_unregistered_destination_is_blocked_audited_alerted_and_opens_a_breach_case(
        platform: Platform, client: EgressClient, stranger: Server) -> None:
    raised: list[events.Event] = []
    platform.bus.subscribe(events.SecurityAlertRaised, raised.append)
    insider = _who(platform, "analyst.segura")
    with pytest.raises(EgressBlocked, match="not an approved export_destination") as blocked:
        client.send(insider, purpose="export_destination", method="PUT",
                    url=stranger.base + "/upload/clip.mp4", data_class="media", body=JPEG,
                    camera_ids=["SEG-006"])
    assert stranger.received == []  # not a byte left
    denied = [r for r in audit_rows(platform) if r.action == "egress.send"]
    assert len(denied) == 1 and denied[0].outcome == "denied"
    assert denied[0].actor_username == "analyst.segura"
    assert denied[0].detail["bytes"] == len(JPEG)
    assert denied[0].detail["url"] == f"http://127.0.0.1:{stranger.port}/upload/clip.mp4"
    assert denied[0].detail["breach_case_id"] == blocked.value.breach_case_id
    with platform.uow() as uow:
        alert = uow.security_alerts.get(blocked.value.alert_id)
        case = uow.breaches.get(blocked.value.breach_case_id or "")
    assert alert is not None and alert.kind.value == "egress_blocked"
    assert alert.severity.value == "high" and alert.agency_id == "segura-ep"
    assert case is not None and case.trigger.value == "egress_blocked"
    assert case.data_classes == ["media"] and case.camera_ids == ["SEG-006"]
    assert case.authority_due_at > case.detected_at
    assert [e.alert_id for e in raised] == [alert.id]  # type: ignore[attr-defined]


def test_blocked_operational_data_raises_an_alert_but_no_breach_case(
        platform: Platform, client: EgressClient, stranger: Server) -> None:
    with pytest.raises(EgressBlocked) as blocked:
        client.send(SYSTEM, purpose="webhook", method="POST", url=stranger.base + "/hook",
                    data_class="operational", body=b'{"status": "online"}')
    assert blocked.value.breach_case_id is None
    with platform.uow() as uow:
        assert uow.breaches.for_agency("segura-ep") == []


def test_redirect_to_an_unregistered_host_is_blocked(platform: Platform, client: EgressClient,
                                                     approved_server: Server,
                                                     stranger: Server) -> None:
    _allow(platform, approved_server.base)
    approved_server.redirect_to = stranger.base + "/collect"
    with pytest.raises(EgressBlocked, match=f"127.0.0.1:{stranger.port}"):
        client.send(SYSTEM, purpose="webhook", method="POST",
                    url=approved_server.base + "/bounce", data_class="media", body=JPEG)
    assert [r[1] for r in approved_server.received] == ["/bounce"]
    assert stranger.received == []
    denied = [r for r in audit_rows(platform)
              if r.action == "egress.send" and r.outcome == "denied"]
    assert denied[-1].detail["hop"] == 1


def test_redirect_within_the_destination_is_followed(platform: Platform, client: EgressClient,
                                                     approved_server: Server) -> None:
    _allow(platform, approved_server.base + "/api")
    approved_server.redirect_to = approved_server.base + "/api/v2/events"
    response = client.send(SYSTEM, purpose="webhook", method="POST",
                           url=approved_server.base + "/api/bounce", data_class="operational",
                           body=b"{}")
    assert response.status == 200
    assert approved_server.received == [("POST", "/api/bounce", b"{}"),
                                         ("POST", "/api/v2/events", b"{}")]  # 307 keeps it
    hops = [r.detail["hop"] for r in audit_rows(platform) if r.action == "egress.send"]
    assert hops == [0, 1]


def test_revoked_pending_wrong_purpose_and_other_agencies_destinations_are_blocked(
        platform: Platform, client: EgressClient, approved_server: Server) -> None:
    destination = _allow(platform, approved_server.base + "/in")
    url = approved_server.base + "/in/x"
    # wrong purpose
    with pytest.raises(EgressBlocked):
        client.send(SYSTEM, purpose="federation_peer", method="GET", url=url, data_class="none")
    # revoked
    platform.bus.handle(commands.RevokeEgressDestination(
        _who(platform, "admin.segura"), destination.id, "contract ended"))
    with pytest.raises(EgressBlocked):
        client.send(SYSTEM, purpose="webhook", method="GET", url=url, data_class="none")
    # pending (registered, never approved)
    platform.bus.handle(commands.RegisterEgressDestination(
        _who(platform, "admin.segura"), "again", "webhook", approved_server.base + "/in"))
    with pytest.raises(EgressBlocked):
        client.send(SYSTEM, purpose="webhook", method="GET", url=url, data_class="none")
    # approved by the police for the police: not Segura EP's
    _allow(platform, approved_server.base + "/in", agency="policia")
    with pytest.raises(EgressBlocked):
        client.send(SYSTEM, purpose="webhook", method="GET", url=url, data_class="none")
    police = Principal.system("federation", "policia-nacional")
    assert client.send(police, purpose="webhook", method="GET", url=url,
                       data_class="none").status == 200
    assert [r[1] for r in approved_server.received] == ["/in/x"]


@pytest.mark.parametrize("path", ["/in/../admin", "/in/%2e%2e/admin", "/inbox", "/in%2fx",
                                  "/IN/x"])
def test_paths_cannot_escape_the_registered_prefix(platform: Platform, client: EgressClient,
                                                   approved_server: Server, path: str) -> None:
    _allow(platform, approved_server.base + "/in")
    with pytest.raises(EgressBlocked):
        client.send(SYSTEM, purpose="webhook", method="POST", url=approved_server.base + path,
                    data_class="operational", body=b"x")
    assert approved_server.received == []


@pytest.mark.parametrize("url", [
    "http://user:secret@127.0.0.1:{port}/in", "ftp://127.0.0.1:{port}/in",
    "http://2130706433:{port}/in", "http://127.1:{port}/in", "//127.0.0.1:{port}/in",
])
def test_odd_urls_are_blocked(platform: Platform, client: EgressClient,
                              approved_server: Server, url: str) -> None:
    _allow(platform, approved_server.base + "/in")
    with pytest.raises(EgressBlocked):
        client.send(SYSTEM, purpose="webhook", method="GET",
                    url=url.format(port=approved_server.port), data_class="none")
    assert approved_server.received == []
    denied = [r for r in audit_rows(platform) if r.action == "egress.send"][-1]
    assert "secret" not in str(denied.detail)


def test_plain_http_needs_the_loopback_switch(platform: Platform, approved_server: Server
                                              ) -> None:
    _allow(platform, approved_server.base)
    strict = EgressClient(platform.uow, clock=platform.clock)
    with pytest.raises(EgressBlocked, match="plain http is disabled"):
        strict.send(SYSTEM, purpose="webhook", method="GET", url=approved_server.base + "/",
                    data_class="none")
    assert approved_server.received == []


@pytest.mark.parametrize("answer", [["10.20.30.40"], ["127.0.0.1"], ["93.184.215.14",
                                                                      "192.168.1.5"]])
def test_a_registered_name_resolving_to_a_private_address_is_blocked(
        platform: Platform, answer: list[str]) -> None:
    _allow(platform, "https://peer.example.org/api", "federation_peer")
    rebinding = EgressClient(platform.uow, clock=platform.clock,
                             resolver=lambda host, port: answer)
    with pytest.raises(EgressBlocked, match="non-public address"):
        rebinding.send(SYSTEM, purpose="federation_peer", method="POST",
                       url="https://peer.example.org/api/alerts", data_class="personal_data",
                       body=b'{"plate": "GBC-1234"}')
    with platform.uow() as uow:
        assert [c.data_classes for c in uow.breaches.for_agency("segura-ep")] == [
            ["personal_data"]]


def test_registration_rules() -> None:
    from datetime import UTC, datetime

    now = datetime.now(UTC)

    def register(url: str) -> EgressDestination:
        return EgressDestination.register(destination_id="d", agency_id="a", name="n",
                                          purpose="webhook", url=url, by_id="u1", by="admin",
                                          at=now)

    for bad in ("http://peer.example.org/x", "https://{s}.tile.example/x",
                "https://user@peer.example.org", "https://169.254.169.254/latest",
                "https://0.0.0.0/", "rtsp://cam.example/live"):
        with pytest.raises(InvalidInput):
            register(bad)
    destination = register("HTTPS://Peer.EXAMPLE.org.:443/Api/")
    assert destination.url == "https://peer.example.org/Api"
    with pytest.raises(AccessDenied, match="someone other"):
        destination.approve(by_id="u1", by="admin", at=now)
    destination.approve(by_id="u2", by="auditor", at=now)
    assert destination.allows(parse_target("https://peer.example.org/Api/v1"),
                              destination.purpose)
    assert not destination.allows(parse_target("https://peer.example.org/Apis"),
                                  destination.purpose)
    assert parse_target("https://bücher.example/").host == "xn--bcher-kva.example"
    assert parse_target("http://[::1]:8080/").is_loopback
