"""``sereno evidence …`` and ``sereno trace-leak`` in-process against a fresh embedded node: the
whole export from the command line, and a leaked copy traced back to its export."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from sereno.bootstrap import bootstrap
from sereno.config import load_settings
from sereno.entrypoints.cli import app
from sereno.video.marking import decode_jpeg, encode_jpeg
from tests.cli.conftest import runner
from tests.support.evidence import CASE, detection, jpeg


def _invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, " ".join(result.output.split())


def test_export_from_the_command_line_and_trace_a_leaked_copy(node: Path) -> None:
    platform = bootstrap(load_settings())
    try:
        detection_id = detection(platform)
    finally:
        platform.close()
    assert _invoke("cases", "open", "--as", "analyst.segura", CASE, "Robo en la Bahía")[0] == 0
    request = ["evidence", "request", "--as", "analyst.segura", "--purpose", "judicial_request",
               "--case", CASE, "--recipient-name", "Ab. María Torres", "--recipient-org",
               "Fiscalía Provincial del Guayas", "--justification", "Oficio FGE 2026-123",
               "--snapshot", detection_id, "--clip", detection_id]
    code, output = _invoke(*request, "--purpose", "curiosidad")
    assert code == 1 and "unknown purpose" in output
    result = runner.invoke(app, [*request, "--json"])
    assert result.exit_code == 0, result.output
    export_id = json.loads(result.output)["id"]

    code, output = _invoke("evidence", "approve", export_id, "--as", "supervisor.segura")
    assert code == 1 and "evidence.approve" in output
    code, output = _invoke("evidence", "export", export_id, "--as", "analyst.segura",
                           "-o", "early.zip")
    assert code == 1 and "requested" in output
    assert _invoke("evidence", "approve", export_id, "--as", "approver.segura")[0] == 0
    code, output = _invoke("evidence", "export", export_id, "--as", "analyst.segura",
                           "-o", "package.zip")
    assert code == 0, output
    code, output = _invoke("evidence", "verify", "package.zip")
    assert code == 0 and "intact" in output, output
    listed = json.loads(runner.invoke(app, ["evidence", "list", "--as", "approver.segura",
                                            "--json"]).output)
    assert [(e["id"], e["status"]) for e in listed] == [(export_id, "exported")]

    # The recipient's copy turns up on the internet, re-saved at quality 70.
    with zipfile.ZipFile(node / "package.zip") as archive:
        name = next(n for n in archive.namelist()
                    if n.startswith("watermarked/") and n.endswith(".jpg"))
        copy = archive.read(name)
    (node / "leak.jpg").write_bytes(encode_jpeg(decode_jpeg(copy), 70))
    code, output = _invoke("trace-leak", "leak.jpg", "--as", "auditor.segura")
    assert code == 0, output
    assert f"evidence export {export_id}" in output
    assert "exported_by: analyst.segura" in output and "approved_by: approver.segura" in output
    assert "Fiscalía Provincial del Guayas" in output and "breach_case_id" in output
    # Only auditors trace leaks.
    code, output = _invoke("trace-leak", "leak.jpg", "--as", "analyst.segura")
    assert code == 1 and "leak.trace" in output

    (node / "clean.jpg").write_bytes(jpeg())
    code, output = _invoke("trace-leak", "clean.jpg", "--as", "auditor.segura")
    assert code == 1 and "no watermark" in output
    (node / "notes.txt").write_text("not a picture")
    code, output = _invoke("trace-leak", "notes.txt", "--as", "auditor.segura")
    assert code == 1 and "not a picture" in output
