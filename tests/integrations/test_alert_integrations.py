"""Alert integrations (ADR 0029) against real receivers on both engines: a loopback HTTP server
that checks the HMAC (and fails the first attempts), and the Mosquitto broker on 127.0.0.1:1883
read by a real paho subscriber."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from sereno.bootstrap import Platform, bootstrap
from sereno.domain import commands
from sereno.domain.access import Principal
from sereno.domain.egress import EgressDestination, Target
from sereno.domain.errors import AccessDenied, Conflict, InvalidInput, NotFound
from sereno.domain.integrations import signature
from sereno.entrypoints.api.routes.alerts import AlertOut
from sereno.entrypoints.workers.integrations import IntegrationSender
from sereno.governance.egress import EgressBlocked
from sereno.services import integrations
from sereno.services.accounts import principal_for
from sereno.services.integrations import RetryPolicy
from tests import conftest
from tests.conftest import FakeClock, audit_rows

BROKER = ("127.0.0.1", 1883)


def signature_valid(key: str, timestamp: str, body: bytes, given: str) -> bool:
    """What a receiver does, written here independently of Sereno's code."""
    expected = hmac.new(key.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest("sha256=" + expected.hexdigest(), given)


@dataclass
class Receiver:
    """A webhook receiver that checks signatures and answers 500 to the first ``fail_first``
    requests."""

    port: int
    key: str = ""
    fail_first: int = 0
    requests: int = 0
    accepted: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[str] = field(default_factory=list)
    bad_signatures: int = 0

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(0)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            with lock:
                state.requests += 1
                ok = signature_valid(state.key, self.headers["X-Sereno-Timestamp"], body,
                                     self.headers["X-Sereno-Signature"])
                if not ok:
                    state.bad_signatures += 1
                    status = 401
                elif state.requests <= state.fail_first:
                    status = 500
                else:
                    status = 200
                    delivery = self.headers["X-Sereno-Delivery"]
                    if delivery not in state.deliveries:  # what a receiver does: dedupe
                        state.deliveries.append(delivery)
                        state.accepted.append(json.loads(body))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def node(database_url: str, tmp_path: Path, media_root: Path,
         clock: FakeClock) -> Iterator[Platform]:
    """The test node with plain http to loopback allowed (the receivers are local)."""
    built = bootstrap(conftest.test_settings(tmp_path, database_url, media_root,
                                    egress={"allow_plain_http_loopback": True,
                                            "timeout_seconds": 5},
                                    integrations={"timeout_seconds": 5}), clock=clock)
    yield built
    built.close()


def _who(platform: Platform, username: str) -> Principal:
    with platform.uow() as uow:
        user = uow.users.by_username(username)
    assert user is not None
    return principal_for(user, channel="api", address=None)


def _destination(platform: Platform, url: str, purpose: str = "webhook", *,
                 approve: bool = True) -> EgressDestination:
    admin, auditor = _who(platform, "admin.segura"), _who(platform, "auditor.segura")
    found = platform.bus.handle(commands.RegisterEgressDestination(admin, "herramienta",
                                                                   purpose, url))
    if approve:
        found = platform.bus.handle(commands.ApproveEgressDestination(auditor, found.id))
    return found


def _subscribe(platform: Platform, destination: EgressDestination, target: str, *,
               kind: str = "webhook", categories: list[str] | None = None,
               min_severity: str = "Unknown", by: str = "admin.segura"
               ) -> integrations.Created:
    return integrations.create_subscription(
        platform.uow(), _who(platform, by), kind=kind, destination_id=destination.id,
        target=target, categories=categories or [], min_severity=min_severity,
        box=platform.integration_secrets, clock=platform.clock)


def _raise(platform: Platform, headline: str, *, category: str = "Security",
           severity: str = "Severe") -> str:
    alert = platform.bus.handle(commands.RaiseAlert(
        _who(platform, "operator.segura"), category, severity, "Immediate", "Observed",
        "Robo", headline, latitude=-2.19, longitude=-79.88))
    return str(alert.id)


def _actions(platform: Platform, action: str) -> list[Any]:
    return [r for r in audit_rows(platform) if r.action == action]


def test_webhook_is_signed_retried_and_delivered_once_in_order(
        node: Platform, receiver: Receiver, clock: FakeClock) -> None:
    destination = _destination(node, receiver.url("/hooks"))
    created = _subscribe(node, destination, "/hooks/sereno")
    receiver.key, receiver.fail_first = created.secret, 2
    first, second = _raise(node, "Robo en el Malecón"), _raise(node, "Robo en la Bahía")
    enqueued = _actions(node, "integration.enqueue")
    assert [r.detail["alert_id"] for r in enqueued] == [first, second]
    sender = IntegrationSender(node)

    assert sender.run_once().failed == 1  # HTTP 500: the line waits, nothing is lost
    assert sender.run_once().failed == 0  # not due yet (backoff): nobody is called
    assert receiver.requests == 1
    clock.advance(seconds=301)
    assert sender.run_once().failed == 1
    clock.advance(seconds=301)
    report = sender.run_once()
    assert report.delivered == 2 and report.failed == 0
    clock.advance(seconds=301)
    assert sender.run_once().delivered == 0  # delivered means delivered: never sent again

    assert receiver.bad_signatures == 0 and receiver.requests == 4
    assert [m["alert"]["id"] for m in receiver.accepted] == [first, second]  # in order
    message = receiver.accepted[0]
    assert message["event"] == "alert.raised" and message["id"] == receiver.deliveries[0]
    assert set(message) == {"id", "event", "action", "sent_at", "alert"}
    assert set(message["alert"]) == set(AlertOut.model_fields) | {"link"}
    assert message["alert"]["link"].endswith(f"/alerts?alert={first}")
    assert not any("key" in name for name in message["alert"])  # no media, no storage keys
    deliveries = _actions(node, "integration.deliver")
    assert [r.outcome for r in deliveries] == ["rejected", "rejected", "allowed", "allowed"]
    assert all(r.actor_username == "system:integrations" for r in deliveries)
    assert "HTTP 500" in deliveries[0].reason
    sent = [r for r in _actions(node, "egress.send") if r.outcome == "allowed"]
    assert len(sent) == 4 and {r.object_id for r in sent} == {destination.id}
    with node.uow() as uow:
        assert uow.outbox.pending("webhook", created.subscription.id) == []
        stored = uow.subscriptions.get(created.subscription.id)
    assert stored is not None and created.secret not in stored.secret  # sealed at rest
    assert node.integration_secrets.unseal(stored.id, stored.secret) == created.secret


def test_backoff_grows_with_jitter_up_to_five_minutes() -> None:
    low, high = RetryPolicy(2, 300, rand=lambda: 0.0), RetryPolicy(2, 300, rand=lambda: 1.0)
    assert [high.delay(n).total_seconds() for n in (1, 2, 3, 4)] == [2, 4, 8, 16]
    assert low.delay(3).total_seconds() == 4  # jitter: between half and all of it
    assert high.delay(30).total_seconds() == 300 and low.delay(30).total_seconds() == 150
    assert signature("k", "1", b"{}") == signature("k", "1", b"{}")
    assert not signature_valid("k", "2", b"{}", signature("k", "1", b"{}"))


def test_only_matching_categories_and_severities_are_enqueued(node: Platform,
                                                               receiver: Receiver) -> None:
    destination = _destination(node, receiver.url("/hooks"))
    created = _subscribe(node, destination, "/hooks/fire", categories=["Fire", "Rescue"],
                         min_severity="Severe")
    receiver.key = created.secret
    _raise(node, "Robo", category="Security", severity="Extreme")
    _raise(node, "Humo leve", category="Fire", severity="Moderate")
    wanted = _raise(node, "Incendio", category="Fire", severity="Extreme")
    _raise(node, "Rescate", category="Rescue", severity="Severe")
    with node.uow() as uow:
        queued = uow.outbox.pending("webhook", created.subscription.id)
    assert [m.payload["alert"]["category"] for m in queued] == ["Fire", "Rescue"]
    assert queued[0].payload["alert"]["id"] == wanted
    IntegrationSender(node).run_once()
    assert [m["alert"]["headline"] for m in receiver.accepted] == ["Incendio", "Rescate"]


def test_an_alert_change_is_sent_too(node: Platform, receiver: Receiver) -> None:
    created = _subscribe(node, _destination(node, receiver.url("/")), "/in")
    receiver.key = created.secret
    alert_id = _raise(node, "Robo")
    node.bus.handle(commands.HandleAlert(_who(node, "operator.segura"), alert_id,
                                         "acknowledge", None, None))
    IntegrationSender(node).run_once()
    assert [(m["event"], m["action"], m["alert"]["status"]) for m in receiver.accepted] == [
        ("alert.raised", "raised", "open"), ("alert.changed", "acknowledged", "acknowledged")]


def test_only_approved_destinations_of_the_agency_with_the_right_purpose(
        node: Platform, receiver: Receiver) -> None:
    pending = _destination(node, receiver.url("/a"), approve=False)
    tiles = _destination(node, receiver.url("/tiles"), "map_tiles")
    hooks = _destination(node, receiver.url("/hooks"))
    with pytest.raises(Conflict, match="pending"):
        _subscribe(node, pending, "/a")
    with pytest.raises(NotFound):
        integrations.create_subscription(
            node.uow(), _who(node, "admin.segura"), kind="webhook",
            destination_id=str(uuid.uuid4()), target="/a", categories=[],
            min_severity="Unknown", box=node.integration_secrets, clock=node.clock)
    with pytest.raises(InvalidInput, match="map_tiles"):
        _subscribe(node, tiles, "/tiles/x")
    with pytest.raises(InvalidInput, match="mqtt"):
        _subscribe(node, hooks, "sereno/alerts", kind="mqtt")
    with pytest.raises(InvalidInput, match="outside"):
        _subscribe(node, hooks, "/elsewhere")
    with pytest.raises(InvalidInput, match="category"):
        _subscribe(node, hooks, "/hooks/x", categories=["Robbery"])
    with pytest.raises(NotFound):  # the police admin cannot use Segura EP's destination
        _subscribe(node, hooks, "/hooks/x", by="admin.policia")
    with pytest.raises(AccessDenied):
        _subscribe(node, hooks, "/hooks/x", by="operator.segura")
    with node.uow() as uow:
        assert uow.subscriptions.for_agency("segura-ep") == []
        assert uow.subscriptions.for_agency("policia-nacional") == []
    refused = _actions(node, "integration.create")
    assert len(refused) == 8 and all(r.outcome in ("denied", "rejected") for r in refused)
    _raise(node, "Robo")
    IntegrationSender(node).run_once()
    assert receiver.requests == 0


def test_a_revoked_destination_stops_the_integration(node: Platform,
                                                     receiver: Receiver) -> None:
    destination = _destination(node, receiver.url("/hooks"))
    created = _subscribe(node, destination, "/hooks/sereno")
    receiver.key = created.secret
    _raise(node, "Robo 1")
    IntegrationSender(node).run_once()
    assert len(receiver.accepted) == 1
    node.bus.handle(commands.RevokeEgressDestination(_who(node, "auditor.segura"),
                                                     destination.id, "ya no se usa"))
    _raise(node, "Robo 2")
    report = IntegrationSender(node).run_once()
    assert report.stopped and report.delivered == 0
    assert receiver.requests == 1  # nothing reached the receiver after the revocation
    with node.uow() as uow:
        stored = uow.subscriptions.get(created.subscription.id)
        left = uow.outbox.pending("webhook", created.subscription.id)
    assert stored is not None and not stored.active
    assert [m.payload["alert"]["headline"] for m in left] == ["Robo 2"]  # kept on record
    denied = [r for r in _actions(node, "integration.deliver") if r.outcome == "denied"]
    assert len(denied) == 1 and "revoked" in denied[0].reason
    assert _actions(node, "integration.deactivate")[-1].actor_username == "system:integrations"
    _raise(node, "Robo 3")
    with node.uow() as uow:  # an inactive integration gets nothing more
        assert len(uow.outbox.pending("webhook", created.subscription.id)) == 1


def test_deactivation_by_an_admin(node: Platform, receiver: Receiver) -> None:
    created = _subscribe(node, _destination(node, receiver.url("/hooks")), "/hooks/a")
    admin = _who(node, "admin.segura")
    with pytest.raises(NotFound):
        integrations.deactivate_subscription(node.uow(), _who(node, "admin.policia"),
                                             created.subscription.id, node.clock)
    done = integrations.deactivate_subscription(node.uow(), admin, created.subscription.id,
                                                node.clock)
    assert not done.active
    with pytest.raises(Conflict):
        integrations.deactivate_subscription(node.uow(), admin, created.subscription.id,
                                             node.clock)
    _raise(node, "Robo")
    assert _actions(node, "integration.enqueue") == []
    listed = integrations.list_subscriptions(node.uow(), admin)
    assert [(s.id, s.active) for s in listed] == [(created.subscription.id, False)]


# ---- MQTT --------------------------------------------------------------------------------------


class Listener:
    """A real MQTT v5 subscriber on the test broker."""

    def __init__(self, topic: str) -> None:
        self.messages: list[mqtt.MQTTMessage] = []
        self.ready = threading.Event()
        self.got = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda c, u, mid, rcs, p: self.ready.set()
        self.client.on_message = self._message
        self.client.connect(*BROKER)
        self.client.loop_start()
        assert self.ready.wait(5), "the test broker did not take the subscription"

    def _message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        self.messages.append(message)
        self.got.set()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def topic() -> Iterator[tuple[str, Listener]]:
    name = f"sereno-test/{uuid.uuid4().hex}/alertas"
    listener = Listener(name)
    try:
        yield name, listener
    finally:
        listener.close()


def test_mqtt_publishes_signed_alerts_to_the_approved_broker(
        node: Platform, topic: tuple[str, Listener]) -> None:
    name, listener = topic
    destination = _destination(node, "mqtt://127.0.0.1:1883/sereno-test", "mqtt")
    created = _subscribe(node, destination, name, kind="mqtt")
    alert_id = _raise(node, "Robo en el Malecón")
    report = IntegrationSender(node).run_once()
    assert report.delivered == 1, report
    assert listener.got.wait(5), "nothing arrived on the topic"
    message = listener.messages[0]
    properties = dict(message.properties.UserProperty)  # type: ignore[union-attr]
    assert signature_valid(created.secret, properties["X-Sereno-Timestamp"], bytes(message.payload),
                           properties["X-Sereno-Signature"])
    body = json.loads(message.payload)
    assert body["id"] == properties["X-Sereno-Delivery"] and body["alert"]["id"] == alert_id
    assert message.qos == 1
    delivered = _actions(node, "integration.deliver")
    assert [r.outcome for r in delivered] == ["allowed"] and "PUBACK" in str(delivered[0].detail)
    with node.uow() as uow:
        assert uow.outbox.pending("mqtt", created.subscription.id) == []


def test_mqtt_to_an_unregistered_broker_is_refused_before_connecting(
        node: Platform, topic: tuple[str, Listener]) -> None:
    name, listener = topic
    who = Principal.system("integrations", "segura-ep")
    broker = Target("mqtt", "127.0.0.1", 1883)
    with pytest.raises(EgressBlocked):
        node.mqtt.publish(who, broker=broker, topic=name, payload=b"{}",
                          data_class="personal_data")
    # An approved broker of another agency, or a topic outside the approved prefix: refused.
    _destination(node, "mqtt://127.0.0.1:1883/otro-prefijo", "mqtt")
    with pytest.raises(EgressBlocked):
        node.mqtt.publish(who, broker=broker, topic=name, payload=b"{}",
                          data_class="personal_data")
    with pytest.raises(EgressBlocked):
        node.mqtt.publish(Principal.system("integrations", "policia-nacional"), broker=broker,
                          topic="otro-prefijo/x", payload=b"{}", data_class="operational")
    assert not listener.got.wait(1)
    denied = [r for r in _actions(node, "egress.send") if r.outcome == "denied"]
    assert len(denied) == 3
    with node.uow() as uow:
        blocked = list(uow.security_alerts.for_agency("segura-ep", kind="egress_blocked"))
    assert len(blocked) >= 2
