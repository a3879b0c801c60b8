"""``sereno audit …``, ``sereno policy …``, ``sereno cases …`` and ``sereno peers …``."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from sereno.entrypoints.cli import app
from sereno.governance import merkle
from sereno.governance.transparency import TreeHead
from tests.cli.conftest import runner

AUDITOR = ["--as", "auditor.segura"]


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


def test_audit_sign_verify_prove_and_consistency(node: Path) -> None:
    first = json.loads(_ok(["audit", "sign", *AUDITOR]))
    _ok(["cases", "list", "--as", "analyst.segura"])  # more records
    head = json.loads(_ok(["audit", "sign", *AUDITOR]))
    assert head["tree_size"] > first["tree_size"]
    report = json.loads(_ok(["audit", "verify", *AUDITOR]))
    assert report["ok"] is True and report["first_bad_index"] is None

    proof = json.loads(_ok(["audit", "prove", "--index", "1", *AUDITOR]))
    signed = TreeHead.from_dict(proof["tree_head"])
    assert merkle.verify_inclusion(bytes.fromhex(proof["leaf_hash"]), 1, signed.tree_size,
                                   [bytes.fromhex(p) for p in proof["proof"]],
                                   bytes.fromhex(signed.root_hash))
    consistency = json.loads(_ok(["audit", "consistency", "--from", str(first["tree_size"]),
                                  "--to", str(head["tree_size"]), *AUDITOR]))
    assert merkle.verify_consistency(
        first["tree_size"], head["tree_size"], bytes.fromhex(consistency["old_root"]),
        bytes.fromhex(consistency["new_root"]), [bytes.fromhex(p) for p in consistency["proof"]])
    assert consistency["old_root"] == first["root_hash"]

    beyond = runner.invoke(app, ["audit", "prove", "--index", "99999", *AUDITOR])
    assert beyond.exit_code == 1 and "not in the latest signed head" in beyond.output
    refused = runner.invoke(app, ["audit", "verify", "--as", "operator.segura"])
    assert refused.exit_code == 1 and "forbidden" in refused.output


def test_audit_verify_fails_on_an_edited_record(node: Path) -> None:
    _ok(["audit", "sign", *AUDITOR])
    with sqlite3.connect(node / "var" / "sereno.db") as db:
        record_id = db.execute("SELECT record_id FROM audit_leaves WHERE leaf_index = 2"
                               ).fetchone()[0]
        db.execute("UPDATE audit_records SET reason = 'nada' WHERE id = ?", (record_id,))
    result = runner.invoke(app, ["audit", "verify", *AUDITOR])
    assert result.exit_code == 1
    assert json.loads(result.output)["first_bad_index"] == 2


def test_policies_cases_and_peers(node: Path, tmp_path: Path) -> None:
    shown = _ok(["policy", "show", "--as", "admin.segura"])
    assert "// version 1" in shown and "@id(\"live-own-agency\")" in shown
    broken = tmp_path / "broken.cedar"
    broken.write_text("permit (principal, action, resource")
    bad = runner.invoke(app, ["policy", "publish", str(broken), "--note", "roto",
                              "--as", "admin.segura"])
    assert bad.exit_code == 1 and "do not parse" in bad.output
    policy = tmp_path / "policy.cedar"
    policy.write_text(shown.split("\n", 1)[1])
    _ok(["policy", "publish", str(policy), "--note", "misma política", "--as", "admin.segura"])
    history = json.loads(_ok(["policy", "history", "--as", "auditor.segura"]))
    assert [v["version"] for v in history] == [2, 1]

    _ok(["cases", "open", "CASE-2026-010", "Revisión de turno", "--as", "supervisor.segura"])
    invented = runner.invoke(app, ["cases", "open", "caso 10", "Revisión", "--as",
                                   "supervisor.segura"])
    assert invented.exit_code == 1 and "not a case reference" in invented.output
    cases = json.loads(_ok(["cases", "list", "--as", "analyst.segura"]))
    assert "CASE-2026-010" in {c["reference"] for c in cases}

    key = json.loads(_ok(["audit", "node-key"]))
    _ok(["peers", "add", "ministerio", "policia-nacional", key["public_key"],
         "https://ministerio.example", "--as", "admin.segura"])
    police = runner.invoke(app, ["peers", "add", "otro", "policia-nacional", key["public_key"],
                                 "https://otro.example", "--as", "admin.policia"])
    assert police.exit_code == 1  # only the operating agency's admins register peers
    peers = json.loads(_ok(["peers", "list", "--as", "auditor.segura"]))
    assert [p["node_id"] for p in peers] == ["ministerio"]
