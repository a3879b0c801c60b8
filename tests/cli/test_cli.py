"""The ``sereno`` command line, run in-process against a fresh embedded node."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sereno.entrypoints.cli import app
from tests.cli.conftest import runner


def test_config_show_masks_secrets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SERENO_PROFILE", "production")
    monkeypatch.setenv("SERENO_DATABASE_URL", "postgresql+psycopg://svc:hunter22@db/sereno")
    result = runner.invoke(app, ["config", "show", "--json"])
    assert result.exit_code == 0, result.output
    assert "hunter22" not in result.output
    data = json.loads(result.output)
    assert data["database_url"] == "postgresql+psycopg://svc:***@db/sereno"
    assert data["profile"] == "production" and data["bus"]["kind"] == "nats"
    table = runner.invoke(app, ["config", "show"])
    assert "database_url" in table.output and "hunter22" not in table.output


def test_demo_users_json(node: Path) -> None:
    result = runner.invoke(app, ["demo", "users", "--json"])
    users = json.loads(result.output)
    assert len(users) == 14
    assert {u["agency"] for u in users} == {"segura-ep", "policia-nacional"}
    roles = {r for u in users for r in u["roles"]}
    assert roles == {"operator", "supervisor", "dispatcher", "analyst", "auditor", "admin",
                     "approver"}
    assert set(users[0]) == {"username", "password", "agency", "roles", "otp"}
    assert {u["username"] for u in users if u["otp"]} == {
        f"{role}.{agency}" for role in ("admin", "auditor", "approver")
        for agency in ("segura", "policia")}


def test_demo_otp_prints_the_current_code(node: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from sereno.adapters.totp import code_at
    from sereno.demo.city import demo_totp_secret

    before = datetime.now(UTC)
    result = runner.invoke(app, ["demo", "otp", "admin.segura", "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    secret = demo_totp_secret("admin.segura")
    assert shown["code"] in {code_at(secret, before), code_at(secret, before + timedelta(
        seconds=30))}
    assert 1 <= shown["valid_for_seconds"] <= 30
    plain = runner.invoke(app, ["demo", "otp", "auditor.policia"])
    assert plain.exit_code == 0 and plain.stdout.strip().isdigit()
    refused = runner.invoke(app, ["demo", "otp", "operator.segura"])
    assert refused.exit_code == 2 and "not a demo account with a second factor" in (
        refused.output)
    seeded = runner.invoke(app, ["demo", "seed"])
    assert "sereno demo otp USERNAME prints the current one" in " ".join(seeded.output.split())


def test_admin_commands_for_accounts(node: Path) -> None:
    reset = runner.invoke(app, ["users", "reset-second-factor", "--as", "admin.segura",
                                "auditor.segura"])
    assert reset.exit_code == 0, reset.output
    own = runner.invoke(app, ["users", "reset-second-factor", "--as", "admin.segura",
                              "admin.segura"])
    assert own.exit_code == 1 and "another administrator" in " ".join(own.output.split())
    weak = runner.invoke(app, ["users", "set-password", "--as", "admin.segura",
                               "operator.segura"], input="password1234\npassword1234\n")
    assert weak.exit_code == 1 and "too common" in " ".join(weak.output.split())
    good = runner.invoke(app, ["users", "set-password", "--as", "admin.segura",
                               "operator.segura"],
                         input="una frase larga y nueva\nuna frase larga y nueva\n")
    assert good.exit_code == 0, good.output
    assert "password1234" not in good.output
    denied = runner.invoke(app, ["users", "unlock", "--as", "operator.segura", "admin.segura"])
    assert denied.exit_code == 1 and "forbidden" in denied.output
    assert runner.invoke(app, ["users", "unlock", "--as", "admin.segura", "analyst.segura"]
                         ).exit_code == 0


def test_demo_seed_is_idempotent_and_refused_in_production(node: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    again = runner.invoke(app, ["demo", "seed"])
    assert again.exit_code == 0 and "14 cameras" in again.output
    monkeypatch.setenv("SERENO_PROFILE", "production")
    monkeypatch.setenv("SERENO_DATABASE_URL", "postgresql+psycopg://x@127.0.0.1:1/x")
    refused = runner.invoke(app, ["demo", "seed"])
    assert refused.exit_code == 2 and "refusing" in refused.output


def test_cameras_list_is_scoped_to_the_acting_user(node: Path) -> None:
    police = json.loads(runner.invoke(app, ["cameras", "list", "--as", "operator.policia",
                                            "--json"]).output)
    ids = {c["id"] for c in police}
    assert "PN-003" in ids and "SEG-006" not in ids and "SEG-001" in ids
    nobody = runner.invoke(app, ["cameras", "list", "--as", "ghost"])
    assert nobody.exit_code == 2 and "no active user" in nobody.output


def test_add_import_export_retire(node: Path) -> None:
    added = runner.invoke(app, [
        "cameras", "add", "--as", "admin.segura", "--id", "SEG-300", "--name", "Av. del Bombero",
        "--centre", "segura-norte", "--lat", "-2.1672", "--lon", "-79.9390",
        "--main-url", "rtsp://10.3.0.1/s1", "--tag", "via"])
    assert added.exit_code == 0, added.output
    denied = runner.invoke(app, [
        "cameras", "add", "--as", "operator.segura", "--id", "SEG-301", "--name", "x",
        "--centre", "segura-norte", "--lat", "-2.1", "--lon", "-79.9",
        "--main-url", "rtsp://10.3.0.2/s1"])
    assert denied.exit_code == 1 and "forbidden" in denied.output

    good = node / "nuevas.csv"
    good.write_text("id,name,centre_id,latitude,longitude,main_stream_url\n"
                    "SEG-310,Mercado Caraguay,segura-centro,-2.2150,-79.8890,rtsp://10.3.1.1/s\n")
    assert runner.invoke(app, ["cameras", "import", "--as", "admin.segura", str(good)]
                         ).exit_code == 0
    bad = node / "malas.csv"
    bad.write_text("id,name,centre_id,latitude,longitude,main_stream_url\n"
                   "SEG-311,Bien,segura-centro,-2.2150,-79.8890,rtsp://10.3.1.2/s\n"
                   "SEG-310,Duplicada,segura-centro,-2.2150,-79.8890,rtsp://10.3.1.3/s\n")
    result = runner.invoke(app, ["cameras", "import", "--as", "admin.segura", str(bad)])
    assert result.exit_code == 1
    assert "duplicate id: already registered" in result.output
    assert "nothing was imported" in result.output

    out = node / "export.geojson"
    exported = runner.invoke(app, ["cameras", "export", "--as", "analyst.segura", "-o", str(out)])
    assert exported.exit_code == 0, exported.output
    ids = {f["id"] for f in json.loads(out.read_text())["features"]}
    assert {"SEG-300", "SEG-310"} <= ids and "SEG-311" not in ids

    assert runner.invoke(app, ["cameras", "retire", "--as", "admin.segura", "SEG-300"]
                         ).exit_code == 0
    again = runner.invoke(app, ["cameras", "retire", "--as", "admin.segura", "SEG-300"])
    assert again.exit_code == 1 and "already retired" in again.output


def test_cli_actions_are_audited_as_cli(node: Path) -> None:
    runner.invoke(app, ["cameras", "list", "--as", "operator.segura"])
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{node / 'var' / 'sereno.db'}")
    with engine.connect() as connection:
        row = connection.execute(text(
            "SELECT actor_username, channel, action, outcome FROM audit_records "
            "ORDER BY id DESC LIMIT 1")).one()
    engine.dispose()
    assert tuple(row) == ("operator.segura", "cli", "camera.list", "allowed")


def test_stream_health_worker_once(node: Path) -> None:
    result = runner.invoke(app, ["worker", "stream-health", "--once"])
    assert result.exit_code == 0, result.output
    lines = dict(line.split(": ", 1) for line in result.output.splitlines() if ": " in line)
    assert lines["SEG-001"] == "ok"
    assert lines["SEG-010"].startswith("cannot read the stream")
