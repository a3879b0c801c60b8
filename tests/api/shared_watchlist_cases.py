"""Route-catalogue cases of publishing watchlist entries: a police user never publishes or takes
back Segura EP's entries (nor learns their plates); every call is audited. ``test_agency_scoping``,
``test_audit`` and ``test_auth`` merge them in."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from sereno.bootstrap import Platform
from sereno.domain import commands
from sereno.services.accounts import principal_for

Check = Callable[[TestClient, dict[str, str], str], None]
WATCHLIST = "/api/v1/watchlist"
PATH_IDS = ("{entry_id}",)


def _platform(client: TestClient) -> Platform:
    platform: Platform = client.app.state.platform  # type: ignore[attr-defined]
    return platform


def segura_entry(platform: Platform, *, published: bool = False) -> str:
    """A new entry on Segura EP's list, added by its dispatcher."""
    with platform.uow() as uow:
        dispatcher = uow.users.by_username("dispatcher.segura")
    assert dispatcher is not None
    who = principal_for(dispatcher, channel="api", address=None)
    entry = platform.bus.handle(commands.AddWatchlistEntry(
        who, "PBX-0987", "solo de Segura", published=published))
    return str(entry.entry_id)


def _published(platform: Platform, entry_id: str) -> bool:
    with platform.uow() as uow:
        entry = uow.watchlist.get(entry_id)
    assert entry is not None
    return entry.published


def _refused(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code in (403, 404), response.text
    assert "error" in response.json() and "PBX" not in response.text


def publish(client: TestClient, headers: dict[str, str], _: str) -> None:
    platform = _platform(client)
    entry_id = segura_entry(platform)
    _refused(client.post(f"{WATCHLIST}/{entry_id}/publish", headers=headers))
    assert not _published(platform, entry_id)


def unpublish(client: TestClient, headers: dict[str, str], _: str) -> None:
    platform = _platform(client)
    entry_id = segura_entry(platform, published=True)
    _refused(client.post(f"{WATCHLIST}/{entry_id}/unpublish", headers=headers))
    assert _published(platform, entry_id)


SCOPING: dict[tuple[str, str], Check] = {
    ("POST", f"{WATCHLIST}/{{entry_id}}/publish"): publish,
    ("POST", f"{WATCHLIST}/{{entry_id}}/unpublish"): unpublish,
}

AUDITED: dict[tuple[str, str], tuple[str, Callable[..., object], str]] = {
    ("POST", f"{WATCHLIST}/{{entry_id}}/publish"): (
        "dispatcher.segura",
        lambda c, h, p: c.post(f"{WATCHLIST}/{segura_entry(p)}/publish", headers=h),
        "watchlist.publish"),
    ("POST", f"{WATCHLIST}/{{entry_id}}/unpublish"): (
        "dispatcher.segura",
        lambda c, h, p: c.post(f"{WATCHLIST}/{segura_entry(p, published=True)}/unpublish",
                               headers=h),
        "watchlist.unpublish"),
}
