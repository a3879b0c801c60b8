"""The pure domain: camera rules, visibility, roles, lockout — no database, no HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sereno.domain.access import ROLE_PERMISSIONS, Permission, Principal, Role, parse_roles
from sereno.domain.cameras import (
    Camera,
    Classification,
    validate_coordinates,
    validate_privacy_masks,
    validate_stream_url,
)
from sereno.domain.errors import InvalidInput
from sereno.domain.users import LockoutPolicy, User


def _camera(**overrides: object) -> Camera:
    values: dict[str, object] = {
        "id": "SEG-1", "owner_agency_id": "a", "centre_id": "c", "name": "n",
        "latitude": -2.19, "longitude": -79.88, "main_stream_url": "rtsp://10.0.0.1/s"}
    values.update(overrides)
    return Camera(**values)  # type: ignore[arg-type]


def _who(agency: str, *roles: Role, scopes: frozenset[str] | None = None) -> Principal:
    return Principal("u", "user", agency, frozenset(roles), scopes=scopes)


@given(st.floats(allow_nan=True, allow_infinity=True), st.floats(allow_nan=True,
                                                                  allow_infinity=True))
def test_coordinates_are_accepted_only_inside_wgs84(latitude: float, longitude: float) -> None:
    inside = -90 <= latitude <= 90 and -180 <= longitude <= 180 and not (
        latitude == 0 and longitude == 0)
    try:
        validate_coordinates(latitude, longitude)
        accepted = True
    except InvalidInput:
        accepted = False
    assert accepted == inside


@pytest.mark.parametrize(("url", "ok"), [
    ("rtsp://cam.example:554/stream1", True),
    ("rtsps://user:pw@10.0.0.2/s", True),
    ("http://10.0.0.3/mjpeg", True),
    ("file:///srv/media/sources/clip.mp4", True),
    ("file:relative.mp4", False),
    ("javascript:alert(1)", False),
    ("rtsp://", False),
    ("", False),
    ("rtsp://h/" + "x" * 3000, False),
])
def test_stream_urls(url: str, ok: bool) -> None:
    if ok:
        assert validate_stream_url(url) == url
    else:
        with pytest.raises(InvalidInput):
            validate_stream_url(url)


def test_privacy_masks_are_normalised_and_closed_rings_accepted() -> None:
    closed = [[0.1, 0.1], [0.4, 0.1], [0.4, 0.4], [0.1, 0.1]]
    assert validate_privacy_masks([closed]) == [[[0.1, 0.1], [0.4, 0.1], [0.4, 0.4]]]
    with pytest.raises(InvalidInput, match="at least three"):
        validate_privacy_masks([[[0, 0], [1, 1]]])
    with pytest.raises(InvalidInput, match="simple polygon"):
        validate_privacy_masks([[[0, 0], [1, 1], [1, 0], [0, 1]]])  # a bow tie


def test_visibility_follows_owner_and_classification() -> None:
    private, shared = _camera(), _camera(classification=Classification.SHARED)
    owner, partner = _who("a", Role.OPERATOR), _who("b", Role.ADMIN)
    assert private.visible_to(owner) and not private.visible_to(partner)
    assert shared.visible_to(partner)
    assert not shared.changeable_by(partner)  # shared is read-only for partners
    assert not private.changeable_by(owner)  # operators do not edit the registry
    assert private.changeable_by(_who("a", Role.SUPERVISOR))


def test_token_scopes_can_only_narrow_roles() -> None:
    narrowed = _who("a", Role.SUPERVISOR, scopes=frozenset({"cameras:read", "users:write"}))
    assert narrowed.permissions == {Permission.CAMERA_READ}


def test_least_privilege() -> None:
    assert Permission.FOOTAGE_LIVE not in ROLE_PERMISSIONS[Role.ADMIN]
    assert Permission.FOOTAGE_LIVE not in ROLE_PERMISSIONS[Role.AUDITOR]
    assert Permission.AUDIT_READ in ROLE_PERMISSIONS[Role.AUDITOR]
    assert all(Permission.AUDIT_READ not in ROLE_PERMISSIONS[r] for r in Role
               if r is not Role.AUDITOR)
    assert {r for r in Role if Permission.USER_WRITE in ROLE_PERMISSIONS[r]} == {Role.ADMIN}
    with pytest.raises(ValueError, match="unknown role 'root'"):
        parse_roles(["root"])


def test_lockout_counts_failures_within_the_window() -> None:
    policy = LockoutPolicy(max_failures=3, window=timedelta(minutes=10),
                           lock_for=timedelta(minutes=15))
    user = User("1", "a", "x.y", "X", "hash")
    t0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    assert not user.record_failed_login(t0, policy)
    assert not user.record_failed_login(t0 + timedelta(minutes=11), policy)  # window restarted
    assert not user.record_failed_login(t0 + timedelta(minutes=12), policy)
    assert user.record_failed_login(t0 + timedelta(minutes=13), policy)
    assert user.is_locked(t0 + timedelta(minutes=27))
    assert not user.is_locked(t0 + timedelta(minutes=29))


def test_domain_imports_no_infrastructure() -> None:
    import ast
    from pathlib import Path

    import sereno.domain as domain

    forbidden = {"sqlalchemy", "fastapi", "starlette", "av", "httpx", "psycopg", "nats",
                 "sereno.adapters", "sereno.services", "sereno.entrypoints"}
    for path in Path(domain.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not any(name == f or name.startswith(f + ".") for f in forbidden), (
                    f"{path.name} imports {name}")
