"""The policy decision point: Cedar policies (data, versioned) evaluated with cedarpy.

The service layer describes who asks (``Subject``), for what (``action``), on which resource and
in which circumstances (``AccessContext``); this module turns that into Cedar entities, evaluates
the active policy set and explains the decision with the ``@reason`` of the policies that decided
it. Deny by default: with no matching permit the answer is no.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from typing import Any

import cedarpy

from sereno.domain.errors import InvalidInput

FOOTAGE_ACTIONS = ("footage.live", "footage.snapshot", "footage.clip", "footage.playback",
                   "footage.export")
PERSONAL_DATA_ACTIONS = ("personal_data.read", "personal_data.write")
SHARE_ACTIONS = ("alert.share",)
DEFAULT_DENY = "no policy allows {action} to your roles and agency on this resource"


def packaged_policies() -> str:
    """The policies shipped with Sereno (version 1 of every new node)."""
    return resources.files(__package__).joinpath("footage.cedar").read_text()


def packaged_schema() -> str:
    """The schema every published policy set is validated against."""
    return resources.files(__package__).joinpath("schema.cedarschema").read_text()


@dataclass(frozen=True)
class Subject:
    """The caller's attributes, from the verified credential and the stored account."""

    user_id: str
    agency_id: str
    roles: frozenset[str]
    clearance: int = 1
    centres: frozenset[str] = frozenset()
    cameras: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CameraResource:
    """A camera's footage, with what decides who may see it."""

    id: str
    owner_agency_id: str
    classification: str
    centre_id: str
    sensitivity: int = 1
    masked: bool = False
    shared_with: frozenset[str] = frozenset()


@dataclass(frozen=True)
class WatchlistResource:
    """An agency's personal data (the plate watchlist and its hits)."""

    owner_agency_id: str


@dataclass(frozen=True)
class AlertShareResource:
    """One alert about to leave its agency for ``recipient``, with what the agreement between
    them says of it (``agreement`` is "" when there is none; ADR 0025)."""

    alert_id: str
    owner_agency_id: str
    recipient: str
    source: str
    category: str
    severity: str
    agreement: str = ""
    agreement_from: str = ""
    agreement_status: str = "none"  # active | revoked | none
    agreement_started: bool = False
    agreement_ended: bool = False
    category_covered: bool = False
    severity_covered: bool = False
    area_covered: bool = False
    watchlist_hit: bool = False
    shares_watchlists: bool = False
    private_camera: bool = False
    include_media: bool = False
    redact_faces: bool = True
    redact_plates: bool = True


Resource = CameraResource | WatchlistResource | AlertShareResource


@dataclass(frozen=True)
class AccessContext:
    """The circumstances of one request."""

    purpose: str = ""
    case: str = ""
    case_open: bool = False
    break_glass: bool = False
    token_allows: bool = True
    channel: str = "api"


@dataclass(frozen=True)
class Decision:
    """The answer, with the policies that decided it and what they require of the platform."""

    allowed: bool
    reasons: tuple[str, ...]
    policy_ids: tuple[str, ...]
    policy_version: int
    obligations: frozenset[str] = field(default_factory=frozenset)

    @property
    def reason(self) -> str:
        """One sentence for the user and the audit log."""
        return "; ".join(self.reasons)

    def audit_detail(self) -> dict[str, Any]:
        """What the audit record keeps of the decision."""
        return {"policy_version": self.policy_version, "policies": list(self.policy_ids),
                "obligations": sorted(self.obligations)}


def validate_policies(text: str, schema: str | None = None) -> None:
    """Refuse (InvalidInput) a policy set that does not parse or does not fit the schema."""
    try:
        result = cedarpy.validate_policies(text, schema or packaged_schema())
    except Exception as error:  # the Rust side reports parse errors as exceptions
        raise InvalidInput(f"the policies do not parse: {error}") from None
    if not result.validation_passed:
        problems = [{"policy": e.policy_id, "error": e.error} for e in result.errors]
        if any(str(e.error).startswith("Policy parse error") for e in result.errors):
            raise InvalidInput("the policies do not parse", details=problems)
        raise InvalidInput("the policies do not fit the schema", details=problems)
    for policy_id, notes in _annotations(text).items():
        if "id" not in notes or "reason" not in notes:
            raise InvalidInput(f"every policy needs @id and @reason annotations "
                               f"({policy_id} lacks one)")


def _annotations(text: str) -> dict[str, dict[str, str]]:
    parsed = json.loads(cedarpy.policies_to_json_str(text))
    return {pid: dict(p.get("annotations") or {})
            for pid, p in parsed.get("staticPolicies", {}).items()}


class PolicyDecisionPoint:
    """Evaluates one version of the policies; build a new one to change version."""

    def __init__(self, text: str, version: int) -> None:
        validate_policies(text)
        self.version = version
        self._policies = cedarpy.PolicySet.from_str(text)
        self._annotations = _annotations(text)

    @cached_property
    def policy_ids(self) -> tuple[str, ...]:
        """The @id of every policy in this version."""
        return tuple(a["id"] for a in self._annotations.values())

    def decide(self, subject: Subject, action: str, resource: Resource,
               context: AccessContext) -> Decision:
        """Allow or deny ``action``; never raises on odd attributes (they deny)."""
        principal = {"uid": {"type": "User", "id": subject.user_id}, "parents": [], "attrs": {
            "agency": subject.agency_id, "roles": sorted(subject.roles),
            "clearance": subject.clearance, "centres": sorted(subject.centres),
            "cameras": sorted(subject.cameras)}}
        target = _resource_entity(resource)
        request = {
            "principal": principal["uid"], "action": {"type": "Action", "id": action},
            "resource": target["uid"],
            "context": {"purpose": context.purpose, "case": context.case,
                        "case_open": context.case_open, "break_glass": context.break_glass,
                        "token_allows": context.token_allows, "channel": context.channel},
        }
        result = cedarpy.is_authorized(request, self._policies, [principal, target])
        decided_by = [self._annotations.get(pid, {}) for pid in result.diagnostics.reasons]
        ids = tuple(a.get("id", "?") for a in decided_by)
        if result.diagnostics.errors:
            return Decision(False, ("the policies could not be evaluated for this request: "
                                    + "; ".join(result.diagnostics.errors)[:300],),
                            ids, self.version)
        if result.allowed:
            obligations = frozenset(a["obligation"] for a in decided_by if "obligation" in a)
            return Decision(True, tuple(a.get("reason", "") for a in decided_by), ids,
                            self.version, obligations)
        reasons = tuple(a.get("reason", "") for a in decided_by) or (
            DEFAULT_DENY.format(action=action),)
        return Decision(False, reasons, ids, self.version)


def _resource_entity(resource: Resource) -> dict[str, Any]:
    if isinstance(resource, CameraResource):
        return {"uid": {"type": "Camera", "id": resource.id}, "parents": [], "attrs": {
            "id": resource.id, "owner": resource.owner_agency_id,
            "classification": resource.classification, "centre": resource.centre_id,
            "sensitivity": resource.sensitivity, "masked": resource.masked,
            "shared_with": sorted(resource.shared_with)}}
    if isinstance(resource, AlertShareResource):
        attrs = {name: getattr(resource, name) for name in (
            "recipient", "source", "category", "severity", "agreement", "agreement_from",
            "agreement_status", "agreement_started", "agreement_ended", "category_covered",
            "severity_covered", "area_covered", "watchlist_hit", "shares_watchlists",
            "private_camera", "include_media", "redact_faces", "redact_plates")}
        return {"uid": {"type": "SharedAlert", "id": resource.alert_id}, "parents": [],
                "attrs": {"owner": resource.owner_agency_id, **attrs}}
    return {"uid": {"type": "Watchlist", "id": resource.owner_agency_id}, "parents": [],
            "attrs": {"owner": resource.owner_agency_id}}
