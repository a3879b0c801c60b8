"""The federation sender when the peer does not answer: the head of the stream is retried after
an exponential backoff with jitter and blocks what follows; the status shows it; an admin can
make it due now. (Delivery itself: test_federation_processes.py.)"""

from __future__ import annotations

import json
import random
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sereno.bootstrap import Platform
from sereno.domain import commands
from sereno.domain.access import Principal
from sereno.domain.errors import AccessDenied
from sereno.entrypoints.cli import app
from sereno.services import accounts, federation
from sereno.services.federation import PEER, backoff_seconds
from tests.conftest import FakeClock
from tests.support.federation import peer_key, register, shared_alert


def _as(platform: Platform, username: str) -> Principal:
    with platform.uow() as uow:
        user = uow.users.by_username(username)
    assert user is not None
    return accounts.principal_for(user, channel="cli", address="test")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens once it is closed


def _enqueue(platform: Platform, node: str, count: int) -> list[str]:
    with platform.uow() as uow:
        ids = [federation.enqueue(uow, peer_node_id=node, source_agency_id="segura-ep",
                                  kind="alert.raised", payload=shared_alert(platform.clock()),
                                  now=platform.clock()) for _ in range(count)]
        uow.commit()
    return ids


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    rng = random.Random(7)
    for attempts, full in ((0, 0.5), (1, 1.0), (3, 4.0), (6, 30.0), (40, 30.0)):
        delays = [backoff_seconds(attempts, rng) for _ in range(200)]
        assert all(full / 2 <= d <= full for d in delays)
        assert max(delays) - min(delays) > full / 10  # jittered, not in step
    assert backoff_seconds(10, rng, cap_s=2) <= 2


def test_an_unreachable_peer_holds_the_stream_and_is_retried_later(
        platform: Platform, clock: FakeClock, tmp_path: Path) -> None:
    platform.settings.egress.allow_plain_http_loopback = True
    key = peer_key(tmp_path, "ministerio")
    base = f"http://127.0.0.1:{_closed_port()}"
    register(platform, key, "fiscalia", base)
    fed = platform.federation

    ids = _enqueue(platform, "ministerio", 3)
    # Not an approved destination yet: nothing leaves; the attempt failed and is on record.
    report = fed.send_due("ministerio")
    assert report.failed == 3 and report.delivered == 0
    assert "not an approved federation_peer destination" in report.errors[0]

    destination = platform.bus.handle(commands.RegisterEgressDestination(
        _as(platform, "admin.segura"), "Nodo del Ministerio", "federation_peer", base))
    platform.bus.handle(commands.ApproveEgressDestination(_as(platform, "auditor.segura"),
                                                          destination.id))
    assert fed.send_due("ministerio").next_due is not None  # still in its backoff
    clock.advance(seconds=1)
    report = fed.send_due("ministerio")
    assert report.failed == 3 and "failed" in report.errors[0]  # connection refused
    with platform.uow() as uow:
        messages = [uow.outbox.get(i) for i in ids]
    assert all(m is not None and m.delivered_at is None and m.attempts == 2 for m in messages)
    head = messages[0]
    assert head is not None and head.last_error
    wait = (head.next_attempt_at - clock()).total_seconds()
    assert 0.5 <= wait <= 1.0  # second failure: 1 s with jitter

    # A later message waits behind the head (per-source order), even though it is due.
    later = _enqueue(platform, "ministerio", 1)
    again = fed.send_due("ministerio")
    assert again.failed == 0 and again.next_due == head.next_attempt_at

    rows = federation.status_for(fed, _as(platform, "admin.segura"))
    row = next(r for r in rows if r["node_id"] == "ministerio")
    assert row["pending"] == 4 and row["attempts"] == 2 and row["last_error"]
    assert row["oldest_pending_age_s"] >= 1.0 and row["last_delivered_at"] is None
    police = federation.status_for(fed, _as(platform, "admin.policia"))
    assert next(r for r in police if r["node_id"] == "ministerio")["pending"] == 0

    with pytest.raises(AccessDenied):
        federation.retry_for(fed, _as(platform, "operator.segura"), "ministerio")
    assert federation.retry_for(fed, _as(platform, "admin.segura"), "ministerio") == 4
    with platform.uow() as uow:
        assert [m.id for m in uow.outbox.pending(PEER, "ministerio")] == [*ids, *later]
        assert all(m.next_attempt_at <= clock() for m in uow.outbox.pending(PEER, "ministerio"))


def test_the_command_line_shows_and_retries(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SERENO_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SERENO_AUTH__ARGON2_TIME_COST", "1")
    monkeypatch.setenv("SERENO_AUTH__ARGON2_MEMORY_KIB", "1024")
    monkeypatch.delenv("SERENO_AS", raising=False)
    assert runner.invoke(app, ["demo", "seed"]).exit_code == 0
    key = peer_key(tmp_path, "ministerio")
    added = runner.invoke(app, ["peers", "add", "--as", "admin.segura", "ministerio",
                                "policia-nacional", key.public_key_b64,
                                "https://ministerio.example"])
    assert added.exit_code == 0, added.output
    shown = runner.invoke(app, ["federation", "status", "--as", "admin.segura", "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)[0]["node_id"] == "ministerio"
    retried = runner.invoke(app, ["federation", "retry", "--as", "admin.segura"])
    assert retried.exit_code == 0 and "0 message(s) due now" in retried.output
    refused = runner.invoke(app, ["federation", "retry", "--as", "admin.segura", "--peer",
                                  "nadie"])
    assert refused.exit_code == 1
    denied = runner.invoke(app, ["federation", "status", "--as", "operator.segura"])
    assert denied.exit_code == 1
