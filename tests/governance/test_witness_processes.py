"""Two installations, two processes: the municipal node witnesses through its egress client to
the ministry's node (`sereno serve` in its own process), which catches a rewritten history.

The municipal node is the test's platform; the ministry's node is a real server on loopback
with its own database, key and registered peers, set up with the CLI as an operator would.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sereno.bootstrap import Platform
from sereno.domain import commands
from sereno.domain.access import Principal
from sereno.governance.egress import EgressBlocked, EgressClient
from sereno.services import accounts, audit_log, governance
from sereno.services.audit import record
from tests.browser.conftest import _serve
from tests.conftest import FakeClock
from tests.support.audit_log import cover_up, edit_record

SERENO = str(Path(sys.executable).with_name("sereno"))


def _as(platform: Platform, username: str) -> Principal:
    with platform.uow() as uow:
        user = uow.users.by_username(username)
    assert user is not None
    return accounts.principal_for(user, channel="cli", address="test")


@pytest.fixture(scope="module")
def ministry(
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, dict[str, str]]]:
    """The ministry's node: seeded, serving, no video workers. Yields (base URL, workdir, env)."""
    workdir = tmp_path_factory.mktemp("ministerio")
    env = {"SERENO_NODE_NAME": "ministerio", "SERENO_NODE_AGENCY_ID": "policia-nacional",
           "SERENO_VIDEO__ENABLED": "false",
           "SERENO_WORKERS__STREAM_HEALTH_IN_SERVER": "false"}
    for base in _serve(workdir, **env):
        yield base, workdir, {**os.environ, "SERENO_DATA_DIR": str(workdir / "var"), **env}


def _cli(env: dict[str, str], cwd: Path, *args: str) -> str:
    done = subprocess.run([SERENO, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


def _write(platform: Platform, count: int) -> None:
    with platform.uow() as uow:
        for n in range(count):
            record(uow, Principal.system("test", "segura-ep"), "footage.live",
                   object_type="camera", object_id=f"SEG-{n % 9:03d}", detail={"n": n})
        uow.commit()


def test_the_ministry_node_countersigns_then_catches_a_rewrite(
        platform: Platform, clock: FakeClock,
        ministry: tuple[str, Path, dict[str, str]]) -> None:
    base, workdir, env = ministry
    municipal = platform.audit_log.key
    node_id = f"municipio-{os.getpid()}-{id(platform) % 10_000}"  # one per engine run
    municipal.node_id = node_id
    # The ministry pins the municipal node's key; the municipality pins the ministry's.
    _cli(env, workdir, "peers", "add", node_id, "segura-ep", municipal.public_key_b64,
         "https://municipio.example", "--as", "admin.policia")
    ministry_key = json.loads(_cli(env, workdir, "audit", "node-key"))
    peer = governance.register_peer(
        platform.uow(), _as(platform, "admin.segura"), "ministerio", "policia-nacional",
        ministry_key["public_key"], base, clock, "segura-ep")
    assert peer["base_url"] == base

    egress = EgressClient(platform.uow, clock=clock, allow_plain_http_loopback=True)
    found = audit_log.peer_of(platform.audit_log, "ministerio")
    assert found is not None
    _write(platform, 30)
    # Not yet an approved destination: nothing leaves, and the attempt is on record.
    with pytest.raises(EgressBlocked):
        audit_log.witness_round(platform.audit_log, egress, found, "segura-ep")

    destination = platform.bus.handle(commands.RegisterEgressDestination(
        _as(platform, "admin.segura"), "Nodo del Ministerio", "federation_peer", base))
    platform.bus.handle(commands.ApproveEgressDestination(_as(platform, "auditor.segura"),
                                                          destination.id))
    clock.advance(seconds=1)
    first = audit_log.witness_round(platform.audit_log, egress, found, "segura-ep")
    assert first["ok"] is True and first["witness"] == "ministerio"
    latest = platform.audit_log.store.latest_head()
    assert latest is not None and latest.witnessed_by == "ministerio"

    # The municipal admin rewrites leaf 7 and covers it up everywhere on their own node.
    victim = 7
    edit_record(platform, victim, actor_username="otra-persona")
    cover_up(platform)
    assert platform.audit_log.verify().ok

    clock.advance(seconds=1)
    second = audit_log.witness_round(platform.audit_log, egress, found, "segura-ep")
    assert second["ok"] is False and second["status"] == 409
    assert second["first_bad_index"] == victim
    with platform.uow() as uow:
        assert any(a.kind.value == "audit_fork" for a in uow.security_alerts.for_agency(
            "segura-ep"))
    # The ministry's own database holds the alert and the refusal, pointing at the index.
    with sqlite3.connect(workdir / "var" / "sereno.db") as db:
        alerts = db.execute("SELECT kind, detail FROM security_alerts WHERE kind = 'audit_fork'"
                            ).fetchall()
        refusals = db.execute("SELECT reason FROM audit_records WHERE action = "
                              "'witness.receive' AND outcome = 'denied'").fetchall()
    assert any(json.loads(detail)["first_bad_index"] == victim for _, detail in alerts)
    assert any("history rewritten" in reason for (reason,) in refusals)
