"""Roles, permissions, token scopes and the caller (``Principal``) every use-case acts for.

Least privilege: a role gets only what its job needs. Administrators manage accounts and the camera
registry but do not watch footage; auditors read the audit log but change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    """The jobs people do in a monitoring centre or a police command."""

    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    DISPATCHER = "dispatcher"
    ANALYST = "analyst"
    AUDITOR = "auditor"
    ADMIN = "admin"
    #: Custodian of evidence: approves exports requested by someone else, sees no live footage.
    APPROVER = "approver"


class Permission(StrEnum):
    """What an action needs. The value before the dot is the token scope that covers it."""

    AGENCY_READ = "directory:read"
    CENTRE_READ = "centres:read"
    CENTRE_WRITE = "centres:write"
    CAMERA_READ = "cameras:read"
    CAMERA_WRITE = "cameras:write"
    CAMERA_EXPORT = "cameras:export"
    FOOTAGE_LIVE = "footage:live"
    FOOTAGE_EXPORT = "footage:export"
    USER_READ = "users:read"
    USER_WRITE = "users:write"
    AUDIT_READ = "audit:read"
    METRICS_READ = "metrics:read"
    WATCHLIST_READ = "watchlist:read"
    WATCHLIST_WRITE = "watchlist:write"
    EVIDENCE_APPROVE = "evidence:approve"
    #: Retention (ADR 0014): read the periods and purge reports, change the periods (admins),
    #: run a purge by hand (admins); legal holds: read, place, release (evidence custodians).
    RETENTION_READ = "retention:read"
    RETENTION_WRITE = "retention:write"
    RETENTION_PURGE = "retention:purge"
    HOLD_READ = "holds:read"
    HOLD_PLACE = "holds:place"
    HOLD_RELEASE = "holds:release"
    #: Security alerts and the breach register: read, acknowledge/close, open, mark notices.
    SECURITY_READ = "security:read"
    SECURITY_HANDLE = "security:handle"
    #: The registry of approved outbound destinations: register/revoke (admins) and approve
    #: (auditors, never the person who registered the destination).
    EGRESS_MANAGE = "egress:manage"
    EGRESS_APPROVE = "egress:approve"
    #: Data-protection impact assessments: draft (admins) and approve (auditors).
    IMPACT_WRITE = "impact:write"
    IMPACT_APPROVE = "impact:approve"
    #: Alerts (issue 5): see the agency's queue, act on its alerts, raise one by hand; sharing
    #: agreements are read by the agency's watch roles and auditors, written by admins; the
    #: exchange (CAP import, federation peers, webhooks) is configured by admins.
    ALERT_READ = "alerts:read"
    ALERT_HANDLE = "alerts:handle"
    ALERT_RAISE = "alerts:raise"
    AGREEMENT_READ = "agreements:read"
    AGREEMENT_WRITE = "agreements:write"
    EXCHANGE_MANAGE = "exchange:manage"
    #: Incidents (issue 6, ADR 0031): read the agency's incidents; create, acknowledge, note
    #: and link alerts (the watch roles); move them through dispatch, resolve, close, cancel,
    #: merge and reprioritise (dispatchers and supervisors); the type catalogue (admins).
    INCIDENT_READ = "incidents:read"
    INCIDENT_WRITE = "incidents:write"
    INCIDENT_DISPATCH = "incidents:dispatch"
    INCIDENT_TYPE_WRITE = "incident-types:write"
    #: Units (issue 6, ADR 0032): see the agency's units, register and take them out of
    #: service (admins), and report as a unit (positions, dispatch acknowledgements: the
    #: mobile terminal, which logs in as a field account with a token scoped to units:report).
    UNIT_READ = "units:read"
    UNIT_WRITE = "units:write"
    UNIT_REPORT = "units:report"
    #: Joint operations (issue 6, ADR 0033): read the operations the agency takes part in;
    #: plan, change and cancel the ones it leads (supervisors and administrators).
    OPERATION_READ = "operations:read"
    OPERATION_WRITE = "operations:write"

    @property
    def scope(self) -> str:
        """The bearer-token scope that must be granted for this permission."""
        return self.value


_EVERYONE = {Permission.AGENCY_READ, Permission.CENTRE_READ, Permission.CAMERA_READ}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OPERATOR: frozenset(_EVERYONE | {Permission.FOOTAGE_LIVE, Permission.WATCHLIST_READ}),
    Role.DISPATCHER: frozenset(_EVERYONE | {Permission.FOOTAGE_LIVE, Permission.WATCHLIST_READ,
                                            Permission.WATCHLIST_WRITE}),
    Role.ANALYST: frozenset(_EVERYONE | {Permission.FOOTAGE_LIVE, Permission.CAMERA_EXPORT,
                                         Permission.FOOTAGE_EXPORT, Permission.WATCHLIST_READ}),
    Role.SUPERVISOR: frozenset(
        _EVERYONE
        | {Permission.FOOTAGE_LIVE, Permission.FOOTAGE_EXPORT, Permission.CAMERA_WRITE,
           Permission.CAMERA_EXPORT, Permission.USER_READ, Permission.METRICS_READ,
           Permission.WATCHLIST_READ, Permission.WATCHLIST_WRITE}
    ),
    Role.AUDITOR: frozenset(_EVERYONE | {Permission.USER_READ, Permission.AUDIT_READ,
                                         Permission.SECURITY_READ, Permission.SECURITY_HANDLE,
                                         Permission.EGRESS_APPROVE, Permission.IMPACT_APPROVE}),
    Role.APPROVER: frozenset(_EVERYONE | {Permission.EVIDENCE_APPROVE}),
    Role.ADMIN: frozenset(
        _EVERYONE
        | {Permission.CENTRE_WRITE, Permission.CAMERA_WRITE, Permission.CAMERA_EXPORT,
           Permission.USER_READ, Permission.USER_WRITE, Permission.METRICS_READ,
           Permission.EGRESS_MANAGE, Permission.IMPACT_WRITE}
    ),
}

# Retention and legal holds (ADR 0014). Periods are an administrator's setting; holds are
# evidence: supervisors (who take the prosecutor's or the incident's request) and custodians
# place them, only custodians release them; auditors read everything and change nothing.
_RETENTION_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.SUPERVISOR: frozenset({Permission.RETENTION_READ, Permission.HOLD_READ,
                                Permission.HOLD_PLACE}),
    Role.APPROVER: frozenset({Permission.RETENTION_READ, Permission.HOLD_READ,
                              Permission.HOLD_PLACE, Permission.HOLD_RELEASE}),
    Role.AUDITOR: frozenset({Permission.RETENTION_READ, Permission.HOLD_READ}),
    Role.ADMIN: frozenset({Permission.RETENTION_READ, Permission.RETENTION_WRITE,
                           Permission.RETENTION_PURGE}),
}
for _role, _granted in _RETENTION_GRANTS.items():
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _granted

# Alerts and exchange (issue 5). The watch roles work the queue; analysts read it (they
# investigate, they do not dispatch); auditors read queue and agreements for the record.
_WATCH = {Permission.ALERT_READ, Permission.ALERT_HANDLE, Permission.ALERT_RAISE,
          Permission.AGREEMENT_READ}
_ALERT_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.OPERATOR: frozenset(_WATCH),
    Role.DISPATCHER: frozenset(_WATCH),
    Role.SUPERVISOR: frozenset(_WATCH),
    Role.ANALYST: frozenset({Permission.ALERT_READ, Permission.AGREEMENT_READ}),
    Role.AUDITOR: frozenset({Permission.ALERT_READ, Permission.AGREEMENT_READ}),
    Role.ADMIN: frozenset({Permission.AGREEMENT_READ, Permission.AGREEMENT_WRITE,
                           Permission.EXCHANGE_MANAGE}),
}
for _role, _granted in _ALERT_GRANTS.items():
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _granted

# Incidents (issue 6). Operators open and acknowledge them; dispatchers and supervisors run
# the response; analysts and auditors read; administrators keep the type catalogue.
_INCIDENT = {Permission.INCIDENT_READ, Permission.INCIDENT_WRITE}
_INCIDENT_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.OPERATOR: frozenset(_INCIDENT),
    Role.DISPATCHER: frozenset(_INCIDENT | {Permission.INCIDENT_DISPATCH}),
    Role.SUPERVISOR: frozenset(_INCIDENT | {Permission.INCIDENT_DISPATCH}),
    Role.ANALYST: frozenset({Permission.INCIDENT_READ}),
    Role.AUDITOR: frozenset({Permission.INCIDENT_READ}),
    Role.ADMIN: frozenset({Permission.INCIDENT_TYPE_WRITE}),
}
for _role, _granted in _INCIDENT_GRANTS.items():
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _granted

# Units (issue 6, ADR 0032). The watch roles see the fleet and report for a unit (a field
# account on the mobile terminal is an operator); administrators keep the fleet register.
_UNIT_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.OPERATOR: frozenset({Permission.UNIT_READ, Permission.UNIT_REPORT}),
    Role.DISPATCHER: frozenset({Permission.UNIT_READ, Permission.UNIT_REPORT}),
    Role.SUPERVISOR: frozenset({Permission.UNIT_READ, Permission.UNIT_REPORT}),
    Role.ANALYST: frozenset({Permission.UNIT_READ}),
    Role.AUDITOR: frozenset({Permission.UNIT_READ}),
    Role.ADMIN: frozenset({Permission.UNIT_READ, Permission.UNIT_WRITE}),
}
for _role, _granted in _UNIT_GRANTS.items():
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _granted

# Joint operations (issue 6, ADR 0033). Everyone on watch and the reviewers read the
# operations their agency takes part in; supervisors and administrators plan them.
_OPERATION_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.OPERATOR: frozenset({Permission.OPERATION_READ}),
    Role.DISPATCHER: frozenset({Permission.OPERATION_READ}),
    Role.ANALYST: frozenset({Permission.OPERATION_READ}),
    Role.AUDITOR: frozenset({Permission.OPERATION_READ}),
    Role.SUPERVISOR: frozenset({Permission.OPERATION_READ, Permission.OPERATION_WRITE}),
    Role.ADMIN: frozenset({Permission.OPERATION_READ, Permission.OPERATION_WRITE}),
}
for _role, _granted in _OPERATION_GRANTS.items():
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _granted

ALL_SCOPES: frozenset[str] = frozenset(p.scope for p in Permission)


def permissions_of(roles: frozenset[Role]) -> frozenset[Permission]:
    """Union of the permissions of ``roles``."""
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS[role]
    return frozenset(granted)


def parse_roles(values: list[str] | tuple[str, ...] | frozenset[str]) -> frozenset[Role]:
    """Turn role names into ``Role`` values; raises ``ValueError`` naming an unknown role."""
    roles = set()
    for value in values:
        try:
            roles.add(Role(value))
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise ValueError(f"unknown role {value!r} (known: {known})") from None
    return frozenset(roles)


@dataclass(frozen=True)
class Principal:
    """Who is asking: always derived from a verified credential, never from what a client says.

    ``scopes`` is ``None`` for an interactive session (the roles decide alone) and the set of
    scopes granted to a bearer token otherwise.
    """

    user_id: str
    username: str
    agency_id: str
    roles: frozenset[Role]
    channel: str = "api"
    address: str | None = None
    scopes: frozenset[str] | None = None
    purpose: str | None = None
    #: The case the access is for (playback and export need one) and, in an emergency, the
    #: break-glass justification; both are stated per request and checked by the policy door.
    case_ref: str | None = None
    break_glass: str | None = None
    permissions: frozenset[Permission] = field(init=False)

    def __post_init__(self) -> None:
        granted = permissions_of(self.roles)
        if self.scopes is not None:
            granted = frozenset(p for p in granted if p.scope in self.scopes)
        object.__setattr__(self, "permissions", granted)

    def can(self, permission: Permission) -> bool:
        """True when the roles (and the token's scopes, if any) grant ``permission``."""
        return permission in self.permissions

    @classmethod
    def system(cls, component: str, agency_id: str) -> Principal:
        """Sereno itself acting (a worker), on behalf of the agency that owns the object."""
        return cls(user_id=f"system:{component}", username=f"system:{component}",
                   agency_id=agency_id, roles=frozenset(), channel="system")

    @property
    def roles_label(self) -> str:
        """Roles as one sorted, comma-separated string, for the audit log."""
        return ",".join(sorted(r.value for r in self.roles))
