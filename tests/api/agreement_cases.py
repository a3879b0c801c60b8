"""Route-catalogue cases of sharing agreements: a police user never reads an agreement it is not
party to, never writes or revokes on Segura EP's behalf; every call is audited.
``test_agency_scoping``, ``test_audit`` and ``test_auth`` merge them in."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from fastapi.testclient import TestClient

from sereno.bootstrap import Platform
from sereno.domain.agreements import SharingAgreement

Check = Callable[[TestClient, dict[str, str], str], None]
AGREEMENTS = "/api/v1/agreements"
PATH_IDS = ("{agreement_id}",)


def _platform(client: TestClient) -> Platform:
    platform: Platform = client.app.state.platform  # type: ignore[attr-defined]
    return platform


def segura_only_agreement(platform: Platform) -> str:
    """An agreement between Segura EP and an agency of a peer: the police are no party."""
    now = platform.clock()
    with platform.uow() as uow:
        if not any(p["agency_id"] == "bomberos-gye" for p in uow.peers.list()):
            uow.peers.add({"node_id": "node-bomberos", "agency_id": "bomberos-gye",
                           "public_key": "0" * 64, "base_url": "https://bomberos.example",
                           "registered_by": "admin.segura", "registered_at": now})
        agreement = SharingAgreement.draft(
            agreement_id=str(uuid.uuid4()), from_agency_id="segura-ep",
            to_agency_id="bomberos-gye", title="Segura EP → Bomberos", categories=["Fire"],
            min_severity="Minor", valid_from=now, valid_until=None, by="admin.segura", at=now)
        uow.agreements.add(agreement)
        uow.commit()
        return agreement.id


def segura_to_police(platform: Platform) -> str:
    with platform.uow() as uow:
        return next(a.id for a in uow.agreements.involving("segura-ep")
                    if a.to_agency_id == "policia-nacional" and a.status.value == "active")


def _denied(response, *allowed: int) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code in (allowed or (403, 404)), response.text
    assert "error" in response.json()


def list_agreements(client: TestClient, headers: dict[str, str], _: str) -> None:
    other = segura_only_agreement(_platform(client))
    response = client.get(AGREEMENTS, headers=headers)
    if response.status_code == 200:
        assert other not in {a["id"] for a in response.json()}
        assert all("policia-nacional" in (a["from_agency"], a["to_agency"])
                   for a in response.json())
    else:
        _denied(response, 403)


def create_agreement(client: TestClient, headers: dict[str, str], _: str) -> None:
    response = client.post(AGREEMENTS, headers=headers, json={
        "from_agency": "segura-ep", "to_agency": "policia-nacional", "title": "Todo",
        "categories": ["Security"], "include_media": True, "redact_faces": False})
    _denied(response, 403)


def read_agreement(client: TestClient, headers: dict[str, str], _: str) -> None:
    other = segura_only_agreement(_platform(client))
    _denied(client.get(f"{AGREEMENTS}/{other}", headers=headers), 403, 404)


def revoke_agreement(client: TestClient, headers: dict[str, str], _: str) -> None:
    platform = _platform(client)
    for agreement_id in (segura_to_police(platform), segura_only_agreement(platform)):
        _denied(client.post(f"{AGREEMENTS}/{agreement_id}/revoke", headers=headers,
                            json={"reason": "no lo queremos"}), 403, 404)
        with platform.uow() as uow:
            found = uow.agreements.get(agreement_id)
            assert found is not None and found.status.value == "active"


SCOPING: dict[tuple[str, str], Check] = {
    ("GET", AGREEMENTS): list_agreements,
    ("POST", AGREEMENTS): create_agreement,
    ("GET", f"{AGREEMENTS}/{{agreement_id}}"): read_agreement,
    ("POST", f"{AGREEMENTS}/{{agreement_id}}/revoke"): revoke_agreement,
}

AUDITED: dict[tuple[str, str], tuple[str, Callable[..., object], str]] = {
    ("GET", AGREEMENTS): ("auditor.segura", lambda c, h, p: c.get(AGREEMENTS, headers=h),
                          "agreement.list"),
    ("POST", AGREEMENTS): (
        "admin.segura",
        lambda c, h, p: c.post(AGREEMENTS, headers=h, json={
            "to_agency": "policia-nacional", "title": "Alertas de incendio",
            "categories": ["Fire"], "min_severity": "Moderate"}),
        "agreement.create"),
    ("GET", f"{AGREEMENTS}/{{agreement_id}}"): (
        "operator.segura",
        lambda c, h, p: c.get(f"{AGREEMENTS}/{segura_to_police(p)}", headers=h),
        "agreement.read"),
    ("POST", f"{AGREEMENTS}/{{agreement_id}}/revoke"): (
        "admin.segura",
        lambda c, h, p: c.post(f"{AGREEMENTS}/{segura_only_agreement(p)}/revoke", headers=h,
                               json={"reason": "fin del convenio"}),
        "agreement.revoke"),
}
