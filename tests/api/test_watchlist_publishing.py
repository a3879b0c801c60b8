"""Publishing watchlist entries to partners (ADR 0030): only the agency's watchlist writers
publish or take back its entries, every call is audited, and a partner never reads them."""

from __future__ import annotations

from fastapi.testclient import TestClient

from sereno.bootstrap import Platform
from sereno.domain import events
from tests.conftest import audit_rows, bearer

WATCHLIST = "/api/v1/watchlist"


def _add(client: TestClient, username: str, plate: str, **extra: object) -> dict[str, object]:
    response = client.post(WATCHLIST, headers=bearer(client, username),
                           json={"plate": plate, "reason": "vehículo robado", **extra})
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_writers_publish_and_take_back_entries_audited(client: TestClient,
                                                       platform: Platform) -> None:
    changed: list[events.WatchlistChanged] = []
    platform.bus.subscribe(events.WatchlistChanged, changed.append)
    born_published = _add(client, "dispatcher.policia", "GBC-1234", published=True)
    assert born_published["published"] is True
    entry = _add(client, "dispatcher.policia", "PBA-5566")
    assert entry["published"] is False
    path = f"{WATCHLIST}/{entry['id']}"
    # Read-only roles of the same agency, and roles without the watchlist, may not publish.
    for username in ("operator.policia", "analyst.policia", "auditor.policia"):
        response = client.post(f"{path}/publish", headers=bearer(client, username))
        assert response.status_code == 403, (username, response.text)
    del changed[:]
    published = client.post(f"{path}/publish", headers=bearer(client, "supervisor.policia"))
    assert published.status_code == 200, published.text
    assert published.json()["published"] is True and published.json()["plate"] == "PBA5566"
    assert [e.agency_id for e in changed] == ["policia-nacional"]  # the workers reload
    again = client.post(f"{path}/publish", headers=bearer(client, "dispatcher.policia"))
    assert again.status_code == 200 and again.json()["published"] is True
    assert len(changed) == 1  # nothing changed, nothing to reload
    listed = client.get(WATCHLIST, headers=bearer(client, "operator.policia")).json()
    assert {e["plate"]: e["published"] for e in listed} == {"GBC1234": True, "PBA5566": True}
    taken_back = client.post(f"{path}/unpublish", headers=bearer(client, "dispatcher.policia"))
    assert taken_back.status_code == 200 and taken_back.json()["published"] is False
    assert len(changed) == 2
    missing = client.post(f"{WATCHLIST}/no-such-entry/publish",
                          headers=bearer(client, "dispatcher.policia"))
    assert missing.status_code == 404
    rows = [r for r in audit_rows(platform) if r.object_type == "watchlist"]
    allowed = [(r.action, r.actor_username) for r in rows if r.outcome == "allowed"]
    assert ("watchlist.publish", "supervisor.policia") in allowed
    assert ("watchlist.unpublish", "dispatcher.policia") in allowed
    add = next(r for r in rows if r.action == "watchlist.add" and r.object_id ==
               born_published["id"])
    assert add.detail["published"] is True
    refused = [r.actor_username for r in rows
               if r.action == "watchlist.publish" and r.outcome != "allowed"]
    assert {"operator.policia", "analyst.policia", "auditor.policia",
            "dispatcher.policia"} <= set(refused)


def test_a_partner_never_reads_or_changes_published_entries(client: TestClient,
                                                           platform: Platform) -> None:
    entry = _add(client, "dispatcher.policia", "GBC-1234", published=True)
    for username in ("operator.segura", "dispatcher.segura", "supervisor.segura",
                     "analyst.segura"):
        headers = bearer(client, username)
        response = client.get(WATCHLIST, headers=headers)
        assert response.status_code == 200 and response.json() == [], username
    segura = bearer(client, "dispatcher.segura")
    for call in ("publish", "unpublish"):
        response = client.post(f"{WATCHLIST}/{entry['id']}/{call}", headers=segura)
        assert response.status_code == 404 and "GBC" not in response.text
    assert client.delete(f"{WATCHLIST}/{entry['id']}", headers=segura).status_code == 404
    with platform.uow() as uow:
        stored = uow.watchlist.get(str(entry["id"]))
    assert stored is not None and stored.published
    refused = [r for r in audit_rows(platform)
               if r.actor_username == "dispatcher.segura" and r.object_id == entry["id"]]
    assert {r.action for r in refused} == {"watchlist.publish", "watchlist.unpublish",
                                           "watchlist.remove"}
    assert all(r.outcome != "allowed" for r in refused)
