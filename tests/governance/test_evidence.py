"""Evidence exports: second-person approval, the signed package, its offline check, and the
refusals (self-approval, wrong role, invented purpose or case, tampered packages)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from typer.testing import CliRunner

from sereno.adapters.db.tables import users
from sereno.bootstrap import Platform
from sereno.domain.errors import AccessDenied, Conflict, InvalidInput, NotFound
from sereno.entrypoints.cli import app
from sereno.governance import watermark
from sereno.governance.evidence_package import verify_package
from sereno.governance.node_key import NodeKey
from sereno.services import evidence
from sereno.services.accounts import principal_for
from sereno.services.footage_release import load_or_create_key, watermark_key_path
from tests.conftest import audit_rows, bearer
from tests.support.evidence import CASE, detection, open_case, request_body

runner = CliRunner()
EXPORTS = "/api/v1/evidence-exports"


def _principal(platform: Platform, username: str):  # type: ignore[no-untyped-def]
    with platform.uow() as uow:
        user = uow.users.by_username(username)
    assert user is not None
    return principal_for(user, channel="api", address=None)


def _requested(client: TestClient, platform: Platform) -> tuple[str, str]:
    open_case(platform)
    detection_id = detection(platform)
    response = client.post(EXPORTS, json=request_body(detection_id),
                           headers=bearer(client, "analyst.segura"))
    assert response.status_code == 201, response.text
    return response.json()["id"], detection_id


def _approved_package(client: TestClient, platform: Platform) -> tuple[str, bytes]:
    export_id, _ = _requested(client, platform)
    approved = client.post(f"{EXPORTS}/{export_id}/approve", json={"note": "conforme"},
                           headers=bearer(client, "approver.segura"))
    assert approved.status_code == 200, approved.text
    response = client.get(f"{EXPORTS}/{export_id}/package.zip",
                          headers=bearer(client, "analyst.segura"))
    assert response.status_code == 200, response.text
    return export_id, response.content


def test_request_approve_export_and_verify(client: TestClient, platform: Platform,
                                           tmp_path: Path) -> None:
    export_id, detection_id = _requested(client, platform)
    analyst = bearer(client, "analyst.segura")
    body = client.get(f"{EXPORTS}/{export_id}", headers=analyst).json()
    assert body["status"] == "requested" and body["case"] == CASE
    assert [i["kind"] for i in body["items"]] == ["snapshot", "clip"]
    assert all(len(i["sha256"]) == 64 for i in body["items"])
    # Nothing leaves before a custodian approves.
    early = client.get(f"{EXPORTS}/{export_id}/package.zip", headers=analyst)
    assert early.status_code == 409 and "requested" in early.json()["error"]["message"]

    approver = bearer(client, "approver.segura")
    pending = client.get(f"{EXPORTS}?status=requested", headers=approver).json()
    assert [e["id"] for e in pending] == [export_id]
    approved = client.post(f"{EXPORTS}/{export_id}/approve", json={"note": "conforme"},
                           headers=approver)
    assert approved.status_code == 200 and approved.json()["status"] == "approved"

    response = client.get(f"{EXPORTS}/{export_id}/package.zip", headers=analyst)
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    data = response.content
    public_key = platform.audit_log.key.public_key_b64
    report = verify_package(data, public_key)
    assert report.ok, report.problems
    manifest = report.manifest
    assert manifest is not None
    assert manifest["export"]["requested_by"] == "analyst.segura"
    assert manifest["export"]["approved_by"] == "approver.segura"
    assert manifest["export"]["exported_by"] == "analyst.segura"
    assert manifest["export"]["recipient"]["organisation"] == "Fiscalía Provincial del Guayas"
    assert manifest["export"]["purpose"] == "judicial_request"
    assert [c["event"] for c in manifest["custody"]][-3:] == ["requested", "approved",
                                                              "exported"]
    assert manifest["node"]["public_key"] == public_key

    archive = zipfile.ZipFile(io.BytesIO(data))
    with platform.uow() as uow:
        event = uow.detections.get(detection_id)
        stored = uow.evidence_exports.get(export_id)
    assert event is not None and stored is not None and event.snapshot_key and event.clip_key
    names = archive.namelist()
    snapshot = next(n for n in names if n.startswith("original/") and n.endswith(".jpg"))
    clip = next(n for n in names if n.startswith("original/") and n.endswith(".mp4"))
    assert archive.read(snapshot) == platform.media.get(event.snapshot_key)  # byte for byte
    assert archive.read(clip) == platform.media.get(event.clip_key)
    # The recipient's copies carry the export's payload.
    key = load_or_create_key(watermark_key_path(platform.settings.data_dir))
    marked = cv2.imdecode(np.frombuffer(archive.read(snapshot.replace("original/",
                                                                      "watermarked/")),
                                        np.uint8), cv2.IMREAD_COLOR)
    found = watermark.extract(marked, key)
    assert found is not None and found.payload == stored.watermark_payload
    from sereno.video.marking import first_frame

    frame = first_frame(archive.read(clip.replace("original/", "watermarked/")))
    found = watermark.extract(frame, key)
    assert found is not None and found.payload == stored.watermark_payload
    # The package carries the audit trail of the export and of the detection's media.
    lines = archive.read("audit/records.jsonl").decode().splitlines()
    text = "\n".join(lines)
    for action in ("evidence.request", "evidence.approve", "evidence.export"):
        assert action in text

    # A second download gives the same bytes, and is audited as such.
    again = client.get(f"{EXPORTS}/{export_id}/package.zip", headers=approver)
    assert again.status_code == 200 and again.content == data
    actions = [r.action for r in audit_rows(platform) if r.object_id == export_id]
    assert actions[-1] == "evidence.download"
    assert {"evidence.request", "evidence.approve", "evidence.export",
            "evidence.package"} <= set(actions)

    path = tmp_path / "package.zip"
    path.write_bytes(data)
    result = runner.invoke(app, ["evidence", "verify", str(path), "--public-key", public_key])
    assert result.exit_code == 0, result.output
    assert "intact" in result.output


def test_only_a_second_person_with_the_approver_role_decides(platform: Platform) -> None:
    open_case(platform)
    detection_id = detection(platform, clip=False)
    # analyst.segura is also made a custodian: still not for their own request.
    with platform.engine.begin() as connection:
        connection.execute(update(users).where(users.c.username == "analyst.segura")
                           .values(roles=["analyst", "approver"]))
    both = _principal(platform, "analyst.segura")
    item = [evidence.ItemRequest("snapshot", detection_id)]
    recipient = evidence.Recipient("Ab. María Torres", "Fiscalía del Guayas")

    def request() -> str:
        return evidence.request_export(
            platform.uow(), both, items=item, recipient=recipient,
            justification="Oficio FGE 2026-123", media=platform.media,
            recordings_root=platform.settings.recordings_root, clock=platform.clock,
            purpose="investigation", case=CASE).id

    export_id = request()
    with pytest.raises(AccessDenied, match="own export request"):
        evidence.approve_export(platform.uow(), both, export_id, None, platform.clock)
    refused = [r for r in audit_rows(platform) if r.action == "evidence.approve"][-1]
    assert refused.outcome == "denied" and refused.actor_username == "analyst.segura"
    assert "own export request" in refused.reason and refused.object_id == export_id

    with pytest.raises(AccessDenied, match=r"do not allow evidence\.approve"):
        evidence.approve_export(platform.uow(), _principal(platform, "supervisor.segura"),
                                export_id, None, platform.clock)
    with pytest.raises(NotFound):  # another agency's custodian does not even see it
        evidence.approve_export(platform.uow(), _principal(platform, "approver.policia"),
                                export_id, None, platform.clock)
    denied = [r for r in audit_rows(platform) if r.action == "evidence.approve"]
    assert [r.outcome for r in denied[-3:]] == ["denied"] * 3

    custodian = _principal(platform, "approver.segura")
    approved = evidence.approve_export(platform.uow(), custodian, export_id, None,
                                       platform.clock)
    assert approved.status.value == "approved" and approved.decided_by_username == \
        "approver.segura"
    with pytest.raises(Conflict, match="already approved"):
        evidence.approve_export(platform.uow(), custodian, export_id, None, platform.clock)

    rejected_id = request()
    with pytest.raises(InvalidInput, match="reason for rejecting"):
        evidence.reject_export(platform.uow(), custodian, rejected_id, "no", platform.clock)
    rejected = evidence.reject_export(platform.uow(), custodian, rejected_id,
                                      "el oficio no menciona esta cámara", platform.clock)
    assert rejected.status.value == "rejected"
    with pytest.raises(Conflict, match="rejected"):
        evidence.export_package(platform.uow, both, rejected_id, _tools(platform))


def _tools(platform: Platform) -> evidence.PackageTools:
    from sereno.entrypoints.api.routes.evidence import package_tools

    return package_tools(platform)


def test_purpose_and_case_are_checked_by_the_policy_door(client: TestClient,
                                                         platform: Platform) -> None:
    open_case(platform)
    detection_id = detection(platform)
    analyst = bearer(client, "analyst.segura")

    def request(headers: dict[str, str] | None = None, **body: object) -> tuple[int, str]:
        response = client.post(EXPORTS, json={**request_body(detection_id), **body},
                               headers={**analyst, **(headers or {})})
        error = response.json().get("error", {}) if response.status_code >= 400 else {}
        return response.status_code, error.get("message", "")

    status, message = request(purpose=None, case=None)
    assert status == 403 and "purpose" in message
    status, message = request(purpose="curiosidad")
    assert status == 422 and "unknown purpose" in message
    status, message = request(case="FGE-2026-999999")
    assert status == 422 and "no case" in message
    status, message = request(case="caso cinco")
    assert status == 422
    status, message = request({"X-Sereno-Case": "FGE-2026-000777"})
    assert status == 422 and "differs" in message
    # Only the owner agency's analysts and supervisors export a camera's footage, even shared.
    open_case(platform, "analyst.policia")
    police = bearer(client, "analyst.policia")
    response = client.post(EXPORTS, json=request_body(detection_id), headers=police)
    assert response.status_code == 403, response.text
    refusals = [r for r in audit_rows(platform) if r.action == "evidence.request"]
    assert len(refusals) == 6 and all(r.outcome in ("denied", "rejected") for r in refusals)

    # A case closed after the request stops the approval (the door is asked again).
    status, _ = request()
    assert status == 201
    export_id = client.get(EXPORTS, headers=analyst).json()[0]["id"]
    supervisor = bearer(client, "supervisor.segura")
    assert client.post(f"/api/v1/cases/{CASE}/close", headers=supervisor).status_code == 200
    response = client.post(f"{EXPORTS}/{export_id}/approve",
                           headers=bearer(client, "approver.segura"))
    assert response.status_code == 403 and "no longer passes" in response.json()["error"][
        "message"]


def _rewrite(data: bytes, change: Callable[[dict[str, bytes]], None]) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    change(files)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _flip_media(files: dict[str, bytes]) -> None:
    name = next(n for n in files if n.startswith("original/") and n.endswith(".jpg"))
    content = bytearray(files[name])
    content[len(content) // 2] ^= 0x01
    files[name] = bytes(content)


def _edit_manifest(files: dict[str, bytes]) -> None:
    files["manifest.json"] = files["manifest.json"].replace(b"Ab. Mar\xc3\xada Torres",
                                                            b"Ab. Juan Torres")


def _forge_signature(files: dict[str, bytes]) -> None:
    from sereno.governance.evidence_package import signed_message

    forger = _other_key()
    files["manifest.sig"] = forger.sign(signed_message(files["manifest.json"])).encode()


def _other_key() -> NodeKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return NodeKey("sereno", Ed25519PrivateKey.generate())


def _edit_record(files: dict[str, bytes]) -> None:
    files["audit/records.jsonl"] = files["audit/records.jsonl"].replace(
        b"approver.segura", b"director.segura", 1)


def _remove_file(files: dict[str, bytes]) -> None:
    del files[next(n for n in files if n.startswith("watermarked/") and n.endswith(".mp4"))]


def _add_file(files: dict[str, bytes]) -> None:
    files["original/99-extra.jpg"] = b"\xff\xd8planted\xff\xd9"


@pytest.mark.parametrize(("change", "expected"), [
    (_flip_media, ["original/01-snapshot-", "SHA-256 differs"]),
    (_edit_manifest, ["manifest.sig is not the node's signature"]),
    (_forge_signature, ["manifest.sig is not the node's signature"]),
    (_edit_record, ["audit/records.jsonl: SHA-256 differs",
                    "audit/records.jsonl line", "not in the signed audit log"]),
    (_remove_file, ["watermarked/02-clip-", "missing from the package"]),
    (_add_file, ["original/99-extra.jpg: not listed in the manifest"]),
], ids=["media-byte", "manifest-field", "signature", "audit-record", "removed-file",
        "added-file"])
def test_tampering_is_named_by_evidence_verify(client: TestClient, platform: Platform,
                                               tmp_path: Path,
                                               change: Callable[[dict[str, bytes]], None],
                                               expected: list[str]) -> None:
    _, data = _approved_package(client, platform)
    path = tmp_path / "altered.zip"
    path.write_bytes(_rewrite(data, change))
    result = runner.invoke(app, ["evidence", "verify", str(path), "--public-key",
                                 platform.audit_log.key.public_key_b64])
    assert result.exit_code == 1, result.output
    output = " ".join(result.output.split())
    for text in expected:
        assert text in output, output
    assert "altered" in output
    as_json = runner.invoke(app, ["evidence", "verify", str(path), "--json"])
    assert as_json.exit_code == 1 and json.loads(as_json.output)["ok"] is False


def test_a_package_signed_by_another_node_fails_against_the_pinned_key(
        client: TestClient, platform: Platform, tmp_path: Path) -> None:
    _, data = _approved_package(client, platform)
    path = tmp_path / "package.zip"
    path.write_bytes(data)
    stranger = _other_key().public_key_b64
    result = runner.invoke(app, ["evidence", "verify", str(path), "--public-key", stranger])
    assert result.exit_code == 1
    assert "different node key" in " ".join(result.output.split())
    unpinned = runner.invoke(app, ["evidence", "verify", str(path)])
    assert unpinned.exit_code == 0 and "--public-key" in unpinned.output


def test_recording_ranges_are_cut_at_request_and_changed_media_stop_the_export(
        client: TestClient, platform: Platform) -> None:
    from tests.api.recordings import record_sample

    open_case(platform)
    start, _ = record_sample(platform, "SEG-002")
    detection_id = detection(platform, clip=False)
    body = {**request_body(detection_id),
            "items": [{"kind": "recording", "camera_id": "SEG-002",
                       "start": (start + timedelta(seconds=2)).isoformat(),
                       "end": (start + timedelta(seconds=6)).isoformat()},
                      {"kind": "snapshot", "detection_id": detection_id}]}
    analyst = bearer(client, "analyst.segura")
    too_long = {**body, "items": [{**body["items"][0],  # type: ignore[index]
                                   "end": (start + timedelta(minutes=6)).isoformat()}]}
    response = client.post(EXPORTS, json=too_long, headers=analyst)
    assert response.status_code == 422 and "5 min" in response.json()["error"]["message"]
    response = client.post(EXPORTS, json=body, headers=analyst)
    assert response.status_code == 201, response.text
    export_id = response.json()["id"]
    approver = bearer(client, "approver.segura")
    assert client.post(f"{EXPORTS}/{export_id}/approve", headers=approver).status_code == 200

    # The snapshot is altered on disk after the approval: nothing leaves, auditors are told.
    with platform.uow() as uow:
        event = uow.detections.get(detection_id)
    assert event is not None and event.snapshot_key
    platform.media.put(event.snapshot_key, b"\xff\xd8retouched\xff\xd9")
    refused = client.get(f"{EXPORTS}/{export_id}/package.zip", headers=analyst)
    assert refused.status_code == 409 and "changed" in refused.json()["error"]["message"]
    with platform.uow() as uow:
        alerts = list(uow.security_alerts.for_agency("segura-ep", kind="audit_tampered"))
    assert any(export_id in a.summary for a in alerts)
    denied = [r for r in audit_rows(platform) if r.action == "evidence.export"][-1]
    assert denied.outcome == "denied" and denied.object_id == export_id

    # A fresh request of the recording alone goes through, cut and watermarked.
    alone = {**body, "items": body["items"][:1]}  # type: ignore[index]
    export_id = client.post(EXPORTS, json=alone, headers=analyst).json()["id"]
    assert client.post(f"{EXPORTS}/{export_id}/approve", headers=approver).status_code == 200
    data = client.get(f"{EXPORTS}/{export_id}/package.zip", headers=analyst).content
    report = verify_package(data, platform.audit_log.key.public_key_b64)
    assert report.ok, report.problems
    assert report.manifest is not None
    item = report.manifest["items"][0]
    assert item["kind"] == "recording" and item["camera_id"] == "SEG-002"
    archive = zipfile.ZipFile(io.BytesIO(data))
    from sereno.video.marking import first_frame

    key = load_or_create_key(watermark_key_path(platform.settings.data_dir))
    found = watermark.extract(first_frame(archive.read(item["watermarked"])), key)
    assert found is not None
