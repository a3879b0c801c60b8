"""Sharing agreements: what one agency gives another, written down.

An agreement from agency A (``from_agency_id``) to agency B (``to_agency_id``) says which alert
categories and from which severity up flow to B, whether evidence media goes with them and
whether faces and plates are blurred on it, whether B's watch roles may view A's shared cameras,
whether A's published watchlists reach B's cameras, for which area, and from when until when.
No agreement, nothing flows. Agreements are never deleted: they are revoked, and stay on record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from sereno.domain.alerts import Alert, Category, Severity, parse_enum
from sereno.domain.errors import Conflict, InvalidInput


class AgreementStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


@dataclass(frozen=True)
class ShareTerms:
    """What an agreement lets through for one alert (``None`` from ``terms_for``: nothing)."""

    agreement_id: str
    include_media: bool
    redact_faces: bool
    redact_plates: bool


@dataclass(eq=False)
class SharingAgreement:
    """Agency ``from_agency_id`` shares with ``to_agency_id`` on these terms."""

    id: str
    from_agency_id: str
    to_agency_id: str
    title: str
    categories: list[str]  # CAP categories; empty means none
    min_severity: Severity
    valid_from: datetime
    valid_until: datetime | None
    created_by: str
    created_at: datetime
    include_media: bool = False
    redact_faces: bool = True
    redact_plates: bool = True
    share_footage: bool = False  # B's watch roles may view A's cameras classified ``shared``
    share_watchlists: bool = False  # A's published watchlists are matched on B's cameras
    area: dict[str, Any] | None = None  # GeoJSON Polygon/MultiPolygon (lon, lat); None = all
    status: AgreementStatus = AgreementStatus.ACTIVE
    revoked_by: str | None = None
    revoked_at: datetime | None = None
    revoke_reason: str | None = None
    _geometry: BaseGeometry | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def draft(cls, *, agreement_id: str, from_agency_id: str, to_agency_id: str, title: str,
              categories: list[str], min_severity: str, valid_from: datetime,
              valid_until: datetime | None, by: str, at: datetime, **terms: Any
              ) -> SharingAgreement:
        """A checked agreement; ``InvalidInput`` says what is wrong."""
        if from_agency_id == to_agency_id:
            raise InvalidInput("an agreement is between two different agencies")
        text = " ".join(title.split())
        if not 3 <= len(text) <= 160:
            raise InvalidInput("an agreement needs a title of 3 to 160 characters")
        chosen = sorted({parse_enum(Category, c, "category").value for c in categories})
        if not chosen:
            raise InvalidInput("name at least one alert category the agreement shares")
        if valid_until is not None and valid_until <= valid_from:
            raise InvalidInput("an agreement must end after it starts")
        area = terms.get("area")
        if area is not None:
            geometry = _area_geometry(area)
            if geometry.is_empty or not geometry.is_valid:
                raise InvalidInput("the agreement's area is not a valid polygon")
        return cls(id=agreement_id, from_agency_id=from_agency_id, to_agency_id=to_agency_id,
                   title=text, categories=chosen,
                   min_severity=parse_enum(Severity, min_severity, "severity"),
                   valid_from=valid_from, valid_until=valid_until, created_by=by,
                   created_at=at, **terms)

    def in_force(self, at: datetime) -> bool:
        """Active, started, not ended."""
        return (self.status is AgreementStatus.ACTIVE and self.valid_from <= at
                and (self.valid_until is None or at < self.valid_until))

    def covers(self, latitude: float | None, longitude: float | None) -> bool:
        """Whether a place is inside the agreement's area (anywhere when it has none; an alert
        without a position only when the agreement has no area)."""
        if self.area is None:
            return True
        if latitude is None or longitude is None:
            return False
        geometry = getattr(self, "_geometry", None)  # not set on rows loaded from the database
        if geometry is None:
            geometry = self._geometry = _area_geometry(self.area)
        return bool(geometry.covers(Point(longitude, latitude)))

    def terms_for(self, alert: Alert, at: datetime) -> ShareTerms | None:
        """The terms on which ``alert`` flows under this agreement at ``at``, or None."""
        if not self.in_force(at) or alert.agency_id != self.from_agency_id:
            return None
        if alert.category.value not in self.categories:
            return None
        if alert.severity.rank < self.min_severity.rank:
            return None
        if not self.covers(alert.latitude, alert.longitude):
            return None
        return ShareTerms(self.id, self.include_media, self.redact_faces, self.redact_plates)

    def revoke(self, by: str, at: datetime, reason: str) -> None:
        """End the agreement now; it stays on record."""
        if self.status is AgreementStatus.REVOKED:
            raise Conflict("the agreement is already revoked")
        text = " ".join((reason or "").split())
        if len(text) < 3:
            raise InvalidInput("revoking an agreement needs a reason")
        self.status = AgreementStatus.REVOKED
        self.revoked_by, self.revoked_at, self.revoke_reason = by, at, text[:2000]


def _area_geometry(area: dict[str, Any]) -> BaseGeometry:
    if not isinstance(area, dict) or area.get("type") not in ("Polygon", "MultiPolygon"):
        raise InvalidInput("the agreement's area must be a GeoJSON Polygon or MultiPolygon")
    try:
        return shape(area)
    except (ValueError, TypeError, KeyError, IndexError) as error:
        raise InvalidInput(f"the agreement's area is not valid GeoJSON: {error}") from None
