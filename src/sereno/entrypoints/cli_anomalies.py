"""``sereno anomalies …`` and ``sereno shifts …``: the access-anomaly scan and the shifts it
judges accesses against (ADR 0015)."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from sereno.domain.anomalies import ShiftSubject, shift_text
from sereno.domain.errors import SerenoError
from sereno.entrypoints.cli_common import AsUser, fail, out, start_as, start_platform
from sereno.services import anomalies

if TYPE_CHECKING:
    pass

anomalies_app = typer.Typer(help="Access anomalies: scan the audit log for them.",
                            no_args_is_help=True)
shifts_app = typer.Typer(help="Weekly shifts per role or user (America/Guayaquil time).",
                         no_args_is_help=True)




@anomalies_app.command("scan")
def anomalies_scan(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Scan the audit records not scanned yet; raise an alert per new finding (what `sereno
    serve` does every minute). Run it from a timer where the server does not."""
    from sereno.entrypoints.workers.anomalies import scan_once

    report = scan_once(start_platform())
    if as_json:
        sys.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False) + "\n")
        return
    out.print(f"scanned {report.scanned} records (up to #{report.last_record_id}); "
                  f"{len(report.alert_ids)} alert(s)")
    for finding in report.findings:
        out.print(f"  [{finding.agency_id}] {finding.detector.value}: {finding.summary}")


@shifts_app.command("list")
def shifts_list(as_user: AsUser) -> None:
    """The agency's shifts (admins, supervisors, auditors)."""

    platform, who = start_as(as_user)
    try:
        found = anomalies.list_shifts(platform.uow(), who)
    except SerenoError as error:
        fail(error)
        return
    with platform.uow() as uow:
        names = {u.id: u.username for u in uow.users.list_for_agency(who.agency_id)}
    for shift in found:
        subject = (names.get(shift.subject, shift.subject)
                   if shift.subject_type is ShiftSubject.USER else shift.subject)
        out.print(f"{shift.subject_type.value:5} {subject:24} {shift_text(shift.schedule)}")


@shifts_app.command("set")
def shifts_set(
    as_user: AsUser,
    schedule: Annotated[str, typer.Argument(
        help="'mon-fri 07:00-19:00; sat 08:00-13:00', 'daily 19:00-07:00', 'always', or "
             "'none' to remove")],
    role: Annotated[str | None, typer.Option("--role")] = None,
    user: Annotated[str | None, typer.Option("--user", help="a username")] = None,
) -> None:
    """Set the weekly shift of a role or a user of your agency (administrators)."""

    platform, who = start_as(as_user)
    try:
        shift = anomalies.set_shift(platform.uow(), who, role=role, username=user,
                                    text=schedule, clock=platform.clock)
    except SerenoError as error:
        fail(error)
        return
    out.print("removed" if shift is None else shift_text(shift.schedule))
