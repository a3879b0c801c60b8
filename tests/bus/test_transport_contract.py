"""One contract, two adapters: every test runs on the in-process transport and on JetStream.

The JetStream half talks to the NATS server on 127.0.0.1:4222 (``.ci/run`` starts it); each test
gets its own stream and subject prefix, and the stream is deleted afterwards. Set
``SERENO_SKIP_NATS=1`` to skip that half on a machine without NATS. Waits poll with deadlines.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nats
import pytest

from sereno.adapters.bus import build_transport
from sereno.adapters.bus.in_process import InProcessTransport
from sereno.adapters.bus.jetstream import JetStreamTransport
from sereno.adapters.bus.roundtrip import measure
from sereno.adapters.bus.transport import (
    Delivery,
    Transport,
    TransportError,
    TransportUnavailable,
    subject_matches,
)
from sereno.bootstrap import Platform
from sereno.config import BusSettings, Settings

NATS_URL = os.environ.get("SERENO_TEST_NATS_URL", "nats://127.0.0.1:4222")
# Short timings so redeliveries and closes take milliseconds, not the production seconds.
FAST: dict[str, Any] = {"retry_backoff": 0.02, "max_backoff": 0.1}
JS_FAST: dict[str, Any] = {"fetch_wait": 0.2, "timeout": 3.0, "connect_timeout": 2.0,
                           "ack_wait": 5.0}


def _nats_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 4222), timeout=1):
            return True
    except OSError:
        return False


def _jetstream_param() -> Any:
    return pytest.param("jetstream", id="jetstream")


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``condition`` until true; fail the test when ``timeout`` passes first."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.005)


@dataclass
class Recorder:
    """A handler that records what it got; ``fail`` decides whether it raises."""

    fail: Callable[[Delivery], bool] = lambda d: False
    got: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, delivery: Delivery) -> None:
        with self.lock:
            self.got.append(delivery)
        if self.fail(delivery):
            raise RuntimeError(f"refusing {delivery.msg_id}")

    @property
    def data(self) -> list[bytes]:
        with self.lock:
            return [d.data for d in self.got]

    def count(self) -> int:
        with self.lock:
            return len(self.got)


@dataclass
class Harness:
    kind: str
    stream: str
    prefix: str
    make: Callable[..., Transport]

    def subject(self, name: str) -> str:
        return f"{self.prefix}.{name}"


def run_coroutine(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run ``coroutine`` to the end on a fresh loop in its own thread: the session's browser
    fixture (Playwright's sync API) keeps an event loop running on the main thread, where
    ``asyncio.run`` refuses to start."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(coroutine)
        except BaseException as error:  # handed to the caller's thread
            failure.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


async def _delete_stream(name: str) -> None:
    nc = await nats.connect(NATS_URL, connect_timeout=2, allow_reconnect=False)
    try:
        await nc.jetstream().delete_stream(name)
    except nats.js.errors.NotFoundError:
        pass
    finally:
        await nc.close()


@pytest.fixture(params=["inprocess", _jetstream_param()])
def bus(request: pytest.FixtureRequest) -> Iterator[Harness]:
    kind = str(request.param)
    if kind == "jetstream" and not _nats_up():
        if os.environ.get("SERENO_SKIP_NATS") == "1":
            pytest.skip("NATS not reachable and SERENO_SKIP_NATS=1")
        pytest.fail("NATS is not reachable on 127.0.0.1:4222: run .ci/run, or set "
                    "SERENO_SKIP_NATS=1 to skip its half of the suite")
    tag = uuid.uuid4().hex[:12]
    stream, prefix = f"TEST_{tag}", f"t{tag}"
    made: list[Transport] = []

    def make(**options: Any) -> Transport:
        options = {**FAST, **options}
        transport: Transport
        if kind == "inprocess":
            transport = InProcessTransport(stream, (f"{prefix}.>",), **options)
        else:
            transport = JetStreamTransport(NATS_URL, stream, (f"{prefix}.>",),
                                           **{**JS_FAST, **options})
        made.append(transport)
        return transport

    yield Harness(kind, stream, prefix, make)
    for transport in made:
        transport.close()
    if kind == "jetstream":
        run_coroutine(_delete_stream(stream))


def publish_all(t: Transport, subject: str, items: list[bytes], tag: str = "m") -> None:
    for i, item in enumerate(items):
        t.publish(subject, item, msg_id=f"{tag}-{i}")


# -- the contract ------------------------------------------------------------------------------


def test_publish_subscribe_delivers_subject_data_id_and_time(bus: Harness) -> None:
    t = bus.make()
    got = Recorder()
    t.subscribe(bus.subject("alerts.>"), "g1", got)
    t.publish(bus.subject("alerts.raised"), b"hello", msg_id="a-1")
    t.publish(bus.subject("other.raised"), b"not for g1", msg_id="a-2")
    wait_until(lambda: got.count() == 1)
    d = got.got[0]
    assert (d.subject, d.data, d.msg_id, d.num_delivered) == (
        bus.subject("alerts.raised"), b"hello", "a-1", 1)
    assert d.published is not None
    assert abs(time.time() - d.published.timestamp()) < 30
    time.sleep(0.3)  # the other subject must not arrive late either
    assert got.count() == 1


def test_a_late_subscriber_gets_the_earlier_messages(bus: Harness) -> None:
    t = bus.make()
    publish_all(t, bus.subject("x"), [b"1", b"2", b"3"])
    got = Recorder()
    t.subscribe(bus.subject("x"), "late", got)
    wait_until(lambda: got.count() == 3)
    assert got.data == [b"1", b"2", b"3"]


def test_durable_resume_after_close_without_replaying_acked(bus: Harness) -> None:
    t = bus.make()
    subject = bus.subject("x")
    first = Recorder()
    sub = t.subscribe(subject, "g", first)
    publish_all(t, subject, [b"a", b"b"], "one")
    wait_until(lambda: first.count() == 2)
    sub.close()
    publish_all(t, subject, [b"c", b"d"], "two")
    time.sleep(0.3)
    assert first.data == [b"a", b"b"]  # closed: nothing more
    second = Recorder()
    t.subscribe(subject, "g", second)
    wait_until(lambda: second.count() == 2)
    time.sleep(0.3)
    assert second.data == [b"c", b"d"]


def test_a_group_resumes_with_unacknowledged_messages_redelivered(bus: Harness) -> None:
    t = bus.make(max_deliver=10, retry_backoff=0.2, max_backoff=0.2)
    subject = bus.subject("x")
    failing = Recorder(fail=lambda d: d.data == b"bad")
    sub = t.subscribe(subject, "g", failing)
    publish_all(t, subject, [b"ok", b"bad"])
    wait_until(lambda: failing.count() >= 2)
    sub.close()
    fixed = Recorder()
    t.subscribe(subject, "g", fixed)
    wait_until(lambda: fixed.count() == 1)
    time.sleep(0.3)
    assert fixed.data == [b"bad"]
    assert fixed.got[0].num_delivered >= 2


def test_one_group_shares_the_messages_exactly_once(bus: Harness) -> None:
    t = bus.make()
    subject = bus.subject("work")
    a, b = Recorder(), Recorder()
    t.subscribe(subject, "workers", a)
    t.subscribe(subject, "workers", b)
    items = [str(i).encode() for i in range(200)]
    publish_all(t, subject, items)
    wait_until(lambda: a.count() + b.count() == 200)
    time.sleep(0.3)
    assert sorted(a.data + b.data, key=int) == items
    assert len(set(a.data + b.data)) == 200


def test_two_groups_each_get_every_message(bus: Harness) -> None:
    t = bus.make()
    subject = bus.subject("x")
    a, b = Recorder(), Recorder()
    t.subscribe(subject, "audit", a)
    t.subscribe(subject, "notify", b)
    items = [str(i).encode() for i in range(20)]
    publish_all(t, subject, items)
    wait_until(lambda: a.count() == 20 and b.count() == 20)
    assert a.data == items
    assert b.data == items


def test_a_failing_handler_gets_the_message_again_with_a_higher_attempt(bus: Harness) -> None:
    t = bus.make(max_deliver=5)
    got = Recorder(fail=lambda d: d.num_delivered < 3)
    t.subscribe(bus.subject("x"), "g", got)
    t.publish(bus.subject("x"), b"flaky", msg_id="f-1")
    wait_until(lambda: got.count() == 3)
    time.sleep(0.3)  # acknowledged on the third: no fourth
    assert [d.num_delivered for d in got.got] == [1, 2, 3]
    assert {d.msg_id for d in got.got} == {"f-1"}


def test_after_max_deliver_the_message_is_parked_not_lost(bus: Harness) -> None:
    t = bus.make(max_deliver=3)
    subject = bus.subject("x")
    got = Recorder(fail=lambda d: d.data == b"poison")
    t.subscribe(subject, "g", got)
    t.publish(subject, b"poison", msg_id="p-1")
    t.publish(subject, b"fine", msg_id="p-2")
    dead = Recorder()
    dead_subject = t.dead_letter_subject(subject, "g")
    assert not subject_matches(f"{bus.prefix}.>", dead_subject)  # app subscribers never see it
    t.subscribe(dead_subject, "operator", dead)
    wait_until(lambda: dead.count() == 1)
    time.sleep(0.3)
    assert [d.num_delivered for d in got.got if d.data == b"poison"] == [1, 2, 3]
    assert [d.data for d in got.got if d.data == b"fine"] == [b"fine"]
    assert dead.count() == 1
    assert (dead.got[0].subject, dead.got[0].data) == (dead_subject, b"poison")
    assert "p-1" in dead.got[0].msg_id
    # Every parked message of a group, whatever its subject: a pattern.
    everything = Recorder()
    t.subscribe(t.dead_letter_subject(f"{bus.prefix}.>", "g"), "operator2", everything)
    wait_until(lambda: everything.count() == 1)


def test_the_same_msg_id_is_stored_once(bus: Harness) -> None:
    t = bus.make()
    subject = bus.subject("x")
    t.publish(subject, b"first", msg_id="same")
    t.publish(subject, b"second", msg_id="same")
    t.publish(subject, b"other", msg_id="different")
    got = Recorder()
    t.subscribe(subject, "g", got)
    wait_until(lambda: got.count() == 2)
    time.sleep(0.3)
    assert got.data == [b"first", b"other"]


def test_a_single_subscriber_sees_a_subject_in_order(bus: Harness) -> None:
    t = bus.make()
    subject = bus.subject("ordered")
    got = Recorder()
    t.subscribe(subject, "g", got)
    items = [str(i).encode() for i in range(300)]
    publish_all(t, subject, items)
    wait_until(lambda: got.count() == 300)
    assert got.data == items


def test_a_thousand_messages_none_lost_none_duplicated(bus: Harness) -> None:
    t = bus.make()
    subject = bus.subject("bulk")
    got = Recorder()
    t.subscribe(subject, "g", got)
    sent = [f"{i}".encode() for i in range(1000)]
    publishers = [threading.Thread(target=publish_all,
                                   args=(t, subject, sent[k::4], f"w{k}"))
                  for k in range(4)]  # ids differ per thread: w0-0, w1-0, …
    for p in publishers:
        p.start()
    for p in publishers:
        p.join()
    wait_until(lambda: got.count() >= 1000, timeout=15)
    time.sleep(0.3)
    assert Counter(got.data) == Counter(sent)


def test_a_group_is_tied_to_one_subject(bus: Harness) -> None:
    t = bus.make()
    t.subscribe(bus.subject("a"), "g", Recorder())
    with pytest.raises(ValueError, match="already consumes"):
        t.subscribe(bus.subject("b"), "g", Recorder())


def test_bad_subjects_and_names_are_refused(bus: Harness) -> None:
    t = bus.make()
    with pytest.raises(ValueError, match="wildcard"):
        t.publish(bus.subject("*"), b"", msg_id="w")
    with pytest.raises(ValueError, match="invalid group"):
        t.subscribe(bus.subject("a"), "has.dot", Recorder())
    with pytest.raises(TransportError):
        t.publish("outside.the.stream", b"", msg_id="o")


def test_a_handler_may_publish(bus: Harness) -> None:
    t = bus.make()
    forwarded = Recorder()

    def forward(d: Delivery) -> None:
        t.publish(bus.subject("out"), d.data.upper(), msg_id=f"fwd-{d.msg_id}")

    t.subscribe(bus.subject("in"), "fwd", forward)
    t.subscribe(bus.subject("out"), "sink", forwarded)
    t.publish(bus.subject("in"), b"abc", msg_id="i-1")
    wait_until(lambda: forwarded.count() == 1)
    assert forwarded.data == [b"ABC"]


def test_roundtrip_measure_returns_one_latency_per_message(bus: Harness) -> None:
    t = bus.make()
    latencies = measure(t, 20, subject=bus.subject("bench"))
    assert len(latencies) == 20
    assert all(0 < ms < 5000 for ms in latencies)


# -- JetStream only ----------------------------------------------------------------------------


def test_unreachable_nats_is_a_clear_error_within_seconds() -> None:
    start = time.monotonic()
    with pytest.raises(TransportUnavailable, match="4999"):
        JetStreamTransport("nats://127.0.0.1:4999", "UNREACHABLE", connect_timeout=1.0)
    assert time.monotonic() - start < 5


def test_build_transport_follows_the_profile() -> None:
    embedded = Settings(profile="embedded", data_dir=Path("unused"))
    assert embedded.bus.kind == "inprocess"
    transport = build_transport(embedded.bus)
    try:
        assert isinstance(transport, InProcessTransport)
    finally:
        transport.close()
    with pytest.raises(TransportUnavailable):
        build_transport(BusSettings(kind="nats", nats_url="nats://127.0.0.1:4999"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_nats(port: int, store: Path) -> subprocess.Popen[bytes]:
    server = shutil.which("nats-server") or "/usr/sbin/nats-server"
    proc = subprocess.Popen([server, "-a", "127.0.0.1", "-p", str(port), "-js",
                             "-sd", str(store)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise AssertionError("nats-server did not start")


@pytest.mark.skipif(not (shutil.which("nats-server") or Path("/usr/sbin/nats-server").exists()),
                    reason="needs the nats-server program")
def test_jetstream_survives_a_broker_restart(tmp_path: Path) -> None:
    port = _free_port()
    proc = _start_nats(port, tmp_path)
    t = JetStreamTransport(f"nats://127.0.0.1:{port}", "RESTART", ("r.>",), **JS_FAST,
                           reconnect_wait=0.1)
    try:
        got = Recorder()
        t.subscribe("r.x", "g", got)
        t.publish("r.x", b"before", msg_id="b-1")
        wait_until(lambda: got.count() == 1)
        proc.terminate()
        proc.wait(5)
        with pytest.raises(TransportUnavailable):
            t.publish("r.x", b"while down", msg_id="d-1")
        proc = _start_nats(port, tmp_path)

        def published_after_restart() -> bool:
            try:
                t.publish("r.x", b"after", msg_id="a-1")
            except TransportUnavailable:
                return False
            return True

        wait_until(published_after_restart, timeout=10)
        wait_until(lambda: b"after" in got.data, timeout=10)
        assert got.data.count(b"before") == 1
    finally:
        t.close()
        proc.kill()
        proc.wait(5)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_platform_builds_its_transport_lazily_and_closes_it(platform: Platform) -> None:
    assert "transport" not in platform.__dict__  # nothing built (no NATS needed) until used
    transport = platform.transport
    assert isinstance(transport, InProcessTransport)  # the embedded profile
    assert platform.transport is transport
    got = Recorder()
    transport.subscribe("sereno.test.platform", "g", got)
    transport.publish("sereno.test.platform", b"hi", msg_id="p-1")
    wait_until(lambda: got.count() == 1)
    platform.close()
    with pytest.raises(TransportError, match="closed"):
        transport.publish("sereno.test.platform", b"late", msg_id="p-2")
