"""Route-catalogue cases of federation: a police user never learns what Segura EP has waiting
for a peer node; the status read is audited. (The envelope door is public: authenticated by
the peer node's signature, tested in tests/exchange/test_federation_receiver.py.)"""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from sereno.bootstrap import Platform
from sereno.services import federation

Check = Callable[[TestClient, dict[str, str], str], None]
STATUS = "/api/v1/federation/status"
PATH_IDS: tuple[str, ...] = ()


def _segura_message_waiting(platform: Platform) -> None:
    """A peer node hosting another agency and one Segura EP message queued for it."""
    with platform.uow() as uow:
        if uow.peers.get("nodo-par") is None:
            uow.peers.add({"node_id": "nodo-par", "agency_id": "fiscalia",
                           "public_key": "A" * 43 + "=", "base_url": "https://par.example",
                           "registered_by": "test", "registered_at": platform.clock()})
        federation.enqueue(uow, peer_node_id="nodo-par", source_agency_id="segura-ep",
                           kind="alert.raised", payload={"secret": "de Segura"},
                           now=platform.clock())
        uow.commit()


def federation_status(client: TestClient, headers: dict[str, str], _: str) -> None:
    platform: Platform = client.app.state.platform  # type: ignore[attr-defined]
    _segura_message_waiting(platform)
    response = client.get(STATUS, headers=headers)
    if response.status_code == 200:
        assert all(row["pending"] == 0 and row["last_error"] is None
                   for row in response.json()), response.text
    else:
        assert response.status_code == 403, response.text


SCOPING: dict[tuple[str, str], Check] = {("GET", STATUS): federation_status}

AUDITED: dict[tuple[str, str], tuple[str, Callable[..., object], str]] = {
    ("GET", STATUS): ("admin.segura", lambda c, h, p: c.get(STATUS, headers=h),
                      "federation.status"),
}
