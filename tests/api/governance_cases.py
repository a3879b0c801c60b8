"""Route-catalogue cases of the governance routes (cases, break-glass, policies, access
profiles, peers, the audit log and the witness endpoint): scoping checks (a police user never
sees or changes Segura EP's) and the audited calls, merged into the catalogue tests."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient

from sereno.bootstrap import Platform
from sereno.domain.governance import BreakGlassAccess, InvestigationCase

Check = Callable[[TestClient, dict[str, str], str], None]
SEGURA = "segura-ep"
SEGURA_CASE = "FGE-2026-000777"


def _platform(client: TestClient) -> Platform:
    platform: Platform = client.app.state.platform  # type: ignore[attr-defined]
    return platform


def segura_case(platform: Platform) -> str:
    with platform.uow() as uow:
        if uow.cases.get(SEGURA, SEGURA_CASE) is None:
            uow.cases.add(InvestigationCase(SEGURA_CASE, SEGURA, "Caso de Segura EP",
                                            "supervisor.segura", platform.clock()))
            uow.commit()
    return SEGURA_CASE


def segura_break_glass(platform: Platform) -> str:
    now = platform.clock()
    access = BreakGlassAccess(
        id=str(uuid.uuid4()), agency_id=SEGURA, user_id="u", username="dispatcher.segura",
        action="footage.playback", object_type="camera", object_id="SEG-006",
        justification="persecución en curso por la Av. 9 de Octubre", at=now,
        review_due=now + timedelta(hours=24))
    with platform.uow() as uow:
        uow.break_glass.add(access)
        uow.commit()
    return access.id


def _user_id(platform: Platform, username: str) -> str:
    with platform.uow() as uow:
        user = uow.users.by_username(username)
        assert user is not None
        return user.id


def _refused(response, *allowed: int) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code in (allowed or (403, 404)), response.text


# -- scoping ------------------------------------------------------------------------------------

def list_cases(client: TestClient, headers: dict[str, str], _: str) -> None:
    segura_case(_platform(client))
    response = client.get("/api/v1/cases", headers=headers)
    if response.status_code == 200:
        assert SEGURA_CASE not in {c["reference"] for c in response.json()}


def open_case(client: TestClient, headers: dict[str, str], _: str) -> None:
    segura_case(_platform(client))
    client.post("/api/v1/cases", headers=headers,
                json={"reference": SEGURA_CASE, "title": "mismo número, otra agencia"})
    with _platform(client).uow() as uow:
        case = uow.cases.get(SEGURA, SEGURA_CASE)
        assert case is not None and case.title == "Caso de Segura EP"


def close_case(client: TestClient, headers: dict[str, str], _: str) -> None:
    segura_case(_platform(client))
    _refused(client.post(f"/api/v1/cases/{SEGURA_CASE}/close", headers=headers))
    with _platform(client).uow() as uow:
        case = uow.cases.get(SEGURA, SEGURA_CASE)
        assert case is not None and case.is_open


def list_break_glass(client: TestClient, headers: dict[str, str], _: str) -> None:
    access_id = segura_break_glass(_platform(client))
    response = client.get("/api/v1/break-glass", headers=headers)
    if response.status_code == 200:
        assert access_id not in {a["id"] for a in response.json()}
    else:
        _refused(response, 403)


def review_break_glass(client: TestClient, headers: dict[str, str], _: str) -> None:
    access_id = segura_break_glass(_platform(client))
    _refused(client.post(f"/api/v1/break-glass/{access_id}/review", headers=headers,
                         json={"verdict": "unjustified", "note": "no procede"}))
    with _platform(client).uow() as uow:
        access = uow.break_glass.get(access_id)
        assert access is not None and access.reviewed_at is None


def list_policies(client: TestClient, headers: dict[str, str], _: str) -> None:
    response = client.get("/api/v1/policies", headers=headers)  # node-wide, no agency data
    assert response.status_code in (200, 403)


def publish_policies(client: TestClient, headers: dict[str, str], _: str) -> None:
    _refused(client.post("/api/v1/policies", headers=headers,
                         json={"text": "permit (principal, action, resource);",
                               "note": "abrir todo"}), 403, 422)
    with _platform(client).uow() as uow:
        active = uow.policies.active()
        assert active is not None and active.version == 1


def set_access_profile(client: TestClient, headers: dict[str, str], _: str) -> None:
    platform = _platform(client)
    user_id = _user_id(platform, "operator.segura")
    _refused(client.put(f"/api/v1/users/{user_id}/access-profile", headers=headers,
                        json={"clearance": 3}))
    with platform.uow() as uow:
        assert uow.access_profiles.get(user_id) is None


def list_peers(client: TestClient, headers: dict[str, str], _: str) -> None:
    assert client.get("/api/v1/peers", headers=headers).status_code in (200, 403)


def register_peer(client: TestClient, headers: dict[str, str], _: str) -> None:
    _refused(client.post("/api/v1/peers", headers=headers, json={
        "node_id": "intruso", "agency_id": "policia-nacional",
        "public_key": "A" * 43 + "=", "base_url": "https://intruso.example"}), 403)
    with _platform(client).uow() as uow:
        assert uow.peers.get("intruso") is None


def audit_heads(client: TestClient, headers: dict[str, str], _: str) -> None:
    assert client.get("/api/v1/audit/tree-heads", headers=headers).status_code in (200, 403)


def audit_sign(client: TestClient, headers: dict[str, str], _: str) -> None:
    assert client.post("/api/v1/audit/tree-heads", headers=headers).status_code in (201, 403)


def audit_verify(client: TestClient, headers: dict[str, str], _: str) -> None:
    assert client.get("/api/v1/audit/verify", headers=headers).status_code in (200, 403)


def audit_inclusion(client: TestClient, headers: dict[str, str], _: str) -> None:
    platform = _platform(client)
    platform.audit_log.sign_head()
    response = client.get("/api/v1/audit/proofs/inclusion", params={"index": 0},
                          headers=headers)
    if response.status_code == 200:  # a police auditor gets the proof, not Segura's record
        record = response.json()["record"]
        assert record is None or SEGURA not in (record["actor_agency_id"],
                                                record["object_agency_id"])
    else:
        _refused(response, 403)


def audit_consistency(client: TestClient, headers: dict[str, str], _: str) -> None:
    _platform(client).audit_log.sign_head()
    response = client.get("/api/v1/audit/proofs/consistency", params={"from": 1, "to": 2},
                          headers=headers)
    assert response.status_code in (200, 403)


def node_key(client: TestClient, headers: dict[str, str], _: str) -> None:
    assert client.get("/api/v1/audit/node-key", headers=headers).status_code == 200


SCOPING: dict[tuple[str, str], Check] = {
    ("GET", "/api/v1/cases"): list_cases,
    ("POST", "/api/v1/cases"): open_case,
    ("POST", "/api/v1/cases/{reference}/close"): close_case,
    ("GET", "/api/v1/break-glass"): list_break_glass,
    ("POST", "/api/v1/break-glass/{access_id}/review"): review_break_glass,
    ("GET", "/api/v1/policies"): list_policies,
    ("POST", "/api/v1/policies"): publish_policies,
    ("PUT", "/api/v1/users/{user_id}/access-profile"): set_access_profile,
    ("GET", "/api/v1/peers"): list_peers,
    ("POST", "/api/v1/peers"): register_peer,
    ("GET", "/api/v1/audit/tree-heads"): audit_heads,
    ("POST", "/api/v1/audit/tree-heads"): audit_sign,
    ("GET", "/api/v1/audit/verify"): audit_verify,
    ("GET", "/api/v1/audit/proofs/inclusion"): audit_inclusion,
    ("GET", "/api/v1/audit/proofs/consistency"): audit_consistency,
    ("GET", "/api/v1/audit/node-key"): node_key,
}

# route -> (acting user, the call, the audit action it must record)
AUDITED: dict[tuple[str, str], tuple[str, Callable[..., object], str]] = {
    ("GET", "/api/v1/cases"): ("analyst.segura",
                               lambda c, h, p: c.get("/api/v1/cases", headers=h), "case.list"),
    ("POST", "/api/v1/cases"): (
        "supervisor.segura",
        lambda c, h, p: c.post("/api/v1/cases", headers=h,
                               json={"reference": "CASE-2026-001", "title": "Revisión"}),
        "case.open"),
    ("POST", "/api/v1/cases/{reference}/close"): (
        "supervisor.segura",
        lambda c, h, p: c.post(f"/api/v1/cases/{segura_case(p)}/close", headers=h),
        "case.close"),
    ("GET", "/api/v1/break-glass"): (
        "supervisor.segura", lambda c, h, p: c.get("/api/v1/break-glass", headers=h),
        "break_glass.list"),
    ("POST", "/api/v1/break-glass/{access_id}/review"): (
        "supervisor.segura",
        lambda c, h, p: c.post(f"/api/v1/break-glass/{segura_break_glass(p)}/review",
                               headers=h, json={"verdict": "justified",
                                                "note": "persecución confirmada"}),
        "break_glass.review"),
    ("GET", "/api/v1/policies"): ("auditor.segura",
                                  lambda c, h, p: c.get("/api/v1/policies", headers=h),
                                  "policy.list"),
    ("POST", "/api/v1/policies"): (
        "admin.segura",
        lambda c, h, p: c.post("/api/v1/policies", headers=h,
                               json={"text": _packaged(), "note": "nueva versión"}),
        "policy.publish"),
    ("PUT", "/api/v1/users/{user_id}/access-profile"): (
        "admin.segura",
        lambda c, h, p: c.put(f"/api/v1/users/{_user_id(p, 'operator.segura')}/access-profile",
                              headers=h, json={"clearance": 2}),
        "access_profile.set"),
    ("GET", "/api/v1/peers"): ("admin.segura",
                               lambda c, h, p: c.get("/api/v1/peers", headers=h), "peer.list"),
    ("POST", "/api/v1/peers"): (
        "admin.segura",
        lambda c, h, p: c.post("/api/v1/peers", headers=h, json={
            "node_id": "ministerio", "agency_id": "policia-nacional",
            "public_key": p.audit_log.key.public_key_b64,
            "base_url": "https://ministerio.example"}),
        "peer.register"),
    ("GET", "/api/v1/audit/tree-heads"): (
        "auditor.segura", lambda c, h, p: c.get("/api/v1/audit/tree-heads", headers=h),
        "audit.heads"),
    ("POST", "/api/v1/audit/tree-heads"): (
        "auditor.segura", lambda c, h, p: c.post("/api/v1/audit/tree-heads", headers=h),
        "audit.sign_head"),
    ("GET", "/api/v1/audit/verify"): (
        "auditor.segura", lambda c, h, p: c.get("/api/v1/audit/verify", headers=h),
        "audit.verify"),
    ("GET", "/api/v1/audit/proofs/inclusion"): (
        "auditor.segura",
        lambda c, h, p: (p.audit_log.sign_head(), c.get(
            "/api/v1/audit/proofs/inclusion", params={"index": 0}, headers=h))[1],
        "audit.prove"),
    ("GET", "/api/v1/audit/proofs/consistency"): (
        "auditor.segura",
        lambda c, h, p: (p.audit_log.sign_head(), c.get(
            "/api/v1/audit/proofs/consistency", params={"from": 1, "to": 2}, headers=h))[1],
        "audit.consistency"),
    ("GET", "/api/v1/audit/node-key"): (
        "auditor.segura", lambda c, h, p: c.get("/api/v1/audit/node-key", headers=h),
        "audit.node_key"),
}

PATH_IDS = ("{reference}", "{access_id}")


def _packaged() -> str:
    from sereno.governance.policy.engine import packaged_policies

    return packaged_policies()
