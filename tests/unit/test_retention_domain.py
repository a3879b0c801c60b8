"""The retention domain: periods, case references, hold scopes (pure, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sereno.domain.access import ROLE_PERMISSIONS, Permission, Role
from sereno.domain.errors import InvalidInput
from sereno.domain.governance import validate_case_reference
from sereno.domain.retention import (
    DEFAULT_PERIOD_DAYS,
    DataClass,
    EffectivePolicies,
    HoldSet,
    LegalHold,
    RetentionPolicy,
    parse_data_class,
    validate_hold_scope,
    validate_period,
)

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def _hold(**changes: object) -> LegalHold:
    values: dict[str, object] = {
        "id": "h1", "agency_id": "segura-ep", "case_reference": "FGE-2026-000123",
        "reason": "pedido de la Fiscalía", "placed_by": "u1", "placed_by_username": "sup",
        "placed_at": T0, "camera_ids": ["SEG-001"], "start": T0,
        "end": T0 + timedelta(hours=1), "detection_ids": ["d1"]}
    values.update(changes)
    return LegalHold(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("reference", ["FGE-2026-000123", "fge-2026-000123 ", "INC-2026-0042",
                                       "CASE-2025-001"])
def test_case_references_of_prosecutors_incidents_and_cases(reference: str) -> None:
    assert validate_case_reference(reference) == reference.strip().upper()


@pytest.mark.parametrize("reference", ["", "FGE-2026", "FGE-26-000123", "ABC-2026-000123",
                                       "FGE-2026-12", "FGE-2026-123456789", "FGE 2026 000123",
                                       "FGE-2026-000123; DROP TABLE"])
def test_invented_case_references_are_refused(reference: str) -> None:
    with pytest.raises(InvalidInput, match="not a case reference"):
        validate_case_reference(reference)


def test_periods_have_bounds_per_class() -> None:
    assert validate_period(DataClass.RECORDING, 1) == 1
    for data_class, days in ((DataClass.RECORDING, 0), (DataClass.SNAPSHOT, -1),
                             (DataClass.ALERT, 3651), (DataClass.AUDIT, 364)):
        with pytest.raises(InvalidInput):
            validate_period(data_class, days)
    with pytest.raises(InvalidInput, match="whole number"):
        validate_period(DataClass.ALERT, True)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="unknown data class"):
        parse_data_class("photos")
    assert parse_data_class(" Event_Clip ") is DataClass.EVENT_CLIP


def test_a_cameras_own_period_beats_the_agencys_which_beats_the_default() -> None:
    policies = EffectivePolicies("segura-ep", (
        RetentionPolicy("segura-ep", DataClass.RECORDING, 10, None, T0, "admin"),
        RetentionPolicy("segura-ep", DataClass.RECORDING, 60, "SEG-001", T0, "admin")))
    assert policies.period_days(DataClass.RECORDING, "SEG-001") == 60
    assert policies.period_days(DataClass.RECORDING, "SEG-002") == 10
    assert policies.period_days(DataClass.SNAPSHOT) == DEFAULT_PERIOD_DAYS[DataClass.SNAPSHOT]
    listing = policies.listing()
    assert [p.data_class for p in listing[:6]] == list(DataClass)
    assert listing[0].period_days == 10 and listing[-1].camera_id == "SEG-001"


def test_what_a_hold_covers() -> None:
    hold = _hold()
    holds = HoldSet((hold,))
    assert holds.holds_range("SEG-001", T0 - timedelta(seconds=10), T0 + timedelta(seconds=1))
    assert not holds.holds_range("SEG-001", T0 - timedelta(seconds=10), T0)  # ends at start
    assert not holds.holds_range("SEG-001", T0 + timedelta(hours=1), T0 + timedelta(hours=2))
    assert not holds.holds_range("SEG-002", T0, T0 + timedelta(minutes=5))
    assert holds.holds_event("other", "SEG-001", T0 + timedelta(minutes=30))
    assert holds.holds_event("d1", "PN-001", T0 - timedelta(days=3))  # by id, anywhere
    assert not holds.holds_event("other", "SEG-001", T0 + timedelta(hours=1))
    hold.release("u2", "custodian", "caso archivado", T0)
    assert not holds.holds_event("d1", "SEG-001", T0) and not hold.active
    with pytest.raises(InvalidInput, match="already released"):
        hold.release("u2", "custodian", "otra vez", T0)


def test_hold_scopes_must_make_sense() -> None:
    start, end = T0, T0 + timedelta(hours=1)
    validate_hold_scope(["SEG-001"], start, end, [])
    validate_hold_scope([], None, None, ["d1"])
    for cameras, begin, finish, detections, message in (
            ([], None, None, [], "covers cameras"),
            (["SEG-001"], None, None, [], "give start and end"),
            ([], start, end, ["d1"], "name the cameras"),
            (["SEG-001"], end, start, [], "after start"),
            (["SEG-001"], start.replace(tzinfo=None), end.replace(tzinfo=None), [], "zone"),
            (["SEG-001"], start, start + timedelta(days=400), [], "366 days"),
            ([f"C{i}" for i in range(51)], start, end, [], "at most")):
        with pytest.raises(InvalidInput, match=message):
            validate_hold_scope(cameras, begin, finish, detections)


def test_least_privilege_for_retention_and_holds() -> None:
    def holders(permission: Permission) -> set[Role]:
        return {role for role in Role if permission in ROLE_PERMISSIONS[role]}

    assert holders(Permission.RETENTION_WRITE) == {Role.ADMIN}
    assert holders(Permission.RETENTION_PURGE) == {Role.ADMIN}
    assert holders(Permission.HOLD_PLACE) == {Role.SUPERVISOR, Role.APPROVER}
    assert holders(Permission.HOLD_RELEASE) == {Role.APPROVER}
    assert holders(Permission.HOLD_READ) == {Role.SUPERVISOR, Role.APPROVER, Role.AUDITOR}
