"""The demo city's shifts (America/Guayaquil time): what "outside the shift" means in the demo.

Monitoring rooms work two 12-hour shifts; the demo's operators and dispatchers are on the day
shift, except the police operator, who works nights (a user's own shift replaces their role's).
Office roles work office hours. Seeding adds what is missing and never overwrites a change.
"""

from __future__ import annotations

from sereno.bootstrap import Platform
from sereno.demo.city import AGENCIES, USERS
from sereno.domain.access import Role
from sereno.domain.anomalies import ShiftAssignment, ShiftSubject, parse_shift

ROLE_SHIFTS: dict[Role, str] = {
    Role.OPERATOR: "daily 07:00-19:00",
    Role.DISPATCHER: "daily 07:00-19:00",
    Role.SUPERVISOR: "mon-sat 07:00-19:00",
    Role.ANALYST: "mon-fri 08:00-17:00",
    Role.AUDITOR: "mon-fri 08:00-17:00",
    Role.ADMIN: "mon-fri 08:00-17:00",
    Role.APPROVER: "mon-fri 08:00-17:00",
}
USER_SHIFTS: dict[str, str] = {"operator.policia": "daily 19:00-07:00"}


def seed_demo_shifts(platform: Platform) -> int:
    """Add the demo shifts that are missing; returns how many were added."""
    now = platform.clock()
    added = 0
    with platform.uow() as uow:
        for agency in AGENCIES:
            have = {(s.subject_type, s.subject) for s in uow.shifts.for_agency(agency.id)}
            wanted = [(ShiftSubject.ROLE, role.value, text) for role, text in ROLE_SHIFTS.items()]
            for demo in USERS:
                if demo.agency_id == agency.id and demo.username in USER_SHIFTS:
                    user = uow.users.by_username(demo.username)
                    if user is not None:
                        wanted.append((ShiftSubject.USER, user.id, USER_SHIFTS[demo.username]))
            for kind, subject, text in wanted:
                if (kind, subject) not in have:
                    uow.shifts.put(ShiftAssignment(agency.id, kind, subject, parse_shift(text),
                                                   "system:demo", now))
                    added += 1
        uow.commit()
    return added
