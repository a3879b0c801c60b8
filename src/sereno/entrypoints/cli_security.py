"""``sereno egress …``, ``sereno breaches …`` and ``sereno dpia …``: the egress registry, the
breach register and impact assessments from the command line (acting as a user, like the API)."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from sereno.domain import commands
from sereno.domain.errors import SerenoError
from sereno.entrypoints.cli_common import AsJson, AsUser, fail, out, start_as

if TYPE_CHECKING:
    pass

egress_app = typer.Typer(help="Approved outbound destinations (egress control).",
                         no_args_is_help=True)
breaches_app = typer.Typer(help="The breach register (LOPDP).", no_args_is_help=True)
dpia_app = typer.Typer(help="Data-protection impact assessments per monitoring centre.",
                       no_args_is_help=True)





def _print(rows: list[dict[str, Any]], columns: list[str], title: str, as_json: bool) -> None:

    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, default=str) + "\n")
        return
    table = Table(*columns, title=title)
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    out.print(table)



# -- egress -----------------------------------------------------------------------------------

@egress_app.command("list")
def egress_list(as_user: AsUser, as_json: AsJson = False) -> None:
    """The agency's destinations, every state (administrators, auditors)."""
    from sereno.services import egress

    platform, who = start_as(as_user)
    try:
        found = egress.list_destinations(platform.uow(), who)
    except SerenoError as error:
        fail(error)
    rows = [{"id": d.id, "name": d.name, "purpose": d.purpose.value, "url": d.url,
             "state": d.state.value, "registered_by": d.registered_by,
             "approved_by": d.approved_by} for d in found]
    _print(rows, ["id", "name", "purpose", "url", "state", "registered_by", "approved_by"],
           f"{len(rows)} destinations", as_json)


@egress_app.command("add")
def egress_add(
    as_user: AsUser,
    name: Annotated[str, typer.Option()],
    purpose: Annotated[str, typer.Option(help="federation_peer, webhook, export_destination "
                                              "or map_tiles")],
    url: Annotated[str, typer.Option(help="https://host[:port][/path prefix]")],
    note: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Register a destination (administrators); it stays blocked until an auditor approves."""
    platform, who = start_as(as_user)
    try:
        found = platform.bus.handle(commands.RegisterEgressDestination(who, name, purpose, url,
                                                                       note))
    except SerenoError as error:
        fail(error)
    out.print(f"[green]registered[/green] {found.id} {found.url} ({found.purpose.value}), "
         "pending approval")


@egress_app.command("approve")
def egress_approve(as_user: AsUser, destination_id: str) -> None:
    """Approve a pending destination (auditors; not the person who registered it)."""
    platform, who = start_as(as_user)
    try:
        found = platform.bus.handle(commands.ApproveEgressDestination(who, destination_id))
    except SerenoError as error:
        fail(error)
    out.print(f"[green]approved[/green] {found.id} {found.url}")


@egress_app.command("revoke")
def egress_revoke(as_user: AsUser, destination_id: str,
                  reason: Annotated[str, typer.Option()]) -> None:
    """Revoke a destination for good (administrators, auditors)."""
    platform, who = start_as(as_user)
    try:
        found = platform.bus.handle(commands.RevokeEgressDestination(who, destination_id,
                                                                     reason))
    except SerenoError as error:
        fail(error)
    out.print(f"revoked {found.id} {found.url}")


# -- breaches ---------------------------------------------------------------------------------

@breaches_app.command("list")
def breaches_list(as_user: AsUser, as_json: AsJson = False,
                  status: Annotated[str | None, typer.Option()] = None) -> None:
    """The agency's breach register with deadlines and what is overdue (auditors)."""
    from sereno.services import breaches

    platform, who = start_as(as_user)
    try:
        found = breaches.list_breaches(platform.uow(), who, status=status)
    except SerenoError as error:
        fail(error)
    now = platform.clock()
    rows = []
    for case in found:
        notices = {n.kind.value: n for n in case.notices()}
        authority = notices["authority"]
        subjects = notices.get("data_subjects")
        rows.append({
            "id": case.id, "opened_at": case.opened_at.isoformat(timespec="minutes"),
            "trigger": case.trigger.value, "status": case.status.value,
            "high_risk": case.high_risk,
            "authority_due": authority.due_at.isoformat(timespec="minutes"),
            "authority_sent": authority.sent_at.isoformat(timespec="minutes")
            if authority.sent_at else None,
            "subjects_due": subjects.due_at.isoformat(timespec="minutes") if subjects else None,
            "overdue": ",".join(k.value for k in case.overdue(now)) or None,
            "description": case.description[:80]})
    _print(rows, ["id", "opened_at", "trigger", "status", "authority_due", "authority_sent",
                  "subjects_due", "overdue", "description"],
           f"{len(rows)} breach cases", as_json)


@breaches_app.command("open")
def breaches_open(
    as_user: AsUser,
    description: Annotated[str, typer.Option()],
    data_class: Annotated[list[str] | None, typer.Option("--data-class")] = None,
    camera: Annotated[list[str] | None, typer.Option("--camera")] = None,
    high_risk: Annotated[bool | None, typer.Option("--high-risk/--not-high-risk")] = None,
) -> None:
    """Open a breach case by hand (auditors)."""
    platform, who = start_as(as_user)
    try:
        case = platform.bus.handle(commands.OpenBreachCase(
            who, description, tuple(data_class or ()), tuple(camera or ()), high_risk))
    except SerenoError as error:
        fail(error)
    out.print(f"[green]opened[/green] {case.id}; notice to the authority due "
         f"{case.authority_due_at.isoformat(timespec='minutes')}")


@breaches_app.command("notice")
def breaches_notice(
    as_user: AsUser, case_id: str,
    kind: Annotated[str, typer.Argument(help="authority or data_subjects")],
    reference: Annotated[str, typer.Option(help="number or receipt of the notice")],
) -> None:
    """Record that a notice was sent (auditors)."""
    platform, who = start_as(as_user)
    try:
        platform.bus.handle(commands.MarkBreachNotice(who, case_id, kind, reference))
    except SerenoError as error:
        fail(error)
    out.print(f"notice {kind} of {case_id} recorded as sent")


@breaches_app.command("draft")
def breaches_draft(
    as_user: AsUser, case_id: str,
    kind: Annotated[str, typer.Argument(help="authority or data_subjects")] = "authority",
    language: Annotated[str, typer.Option("--lang")] = "es",
) -> None:
    """Print the draft of a notice to adapt and send (auditors)."""
    from sereno.services import breaches

    platform, who = start_as(as_user)
    try:
        case = breaches.get_breach(platform.uow(), who, case_id)
    except SerenoError as error:
        fail(error)
    with platform.uow() as uow:
        agency = uow.agencies.get(case.agency_id)
    sys.stdout.write(case.notice_draft(kind, agency_name=agency.name if agency else
                                       case.agency_id, language=language))


@breaches_app.command("close")
def breaches_close(as_user: AsUser, case_id: str, note: Annotated[str, typer.Option()]
                   ) -> None:
    """Close a case with a note of what was established (auditors)."""
    platform, who = start_as(as_user)
    try:
        platform.bus.handle(commands.CloseBreachCase(who, case_id, note))
    except SerenoError as error:
        fail(error)
    out.print(f"closed {case_id}")


# -- impact assessments -----------------------------------------------------------------------

@dpia_app.command("list")
def dpia_list(as_user: AsUser, as_json: AsJson = False) -> None:
    """The agency's impact assessments (administrators, auditors)."""
    from sereno.services import impact

    platform, who = start_as(as_user)
    try:
        found = impact.list_assessments(platform.uow(), who)
    except SerenoError as error:
        fail(error)
    now = platform.clock()
    rows = [{"id": a.id, "centre": a.centre_id, "title": a.title, "status": a.status.value,
             "in_force": a.in_force(now), "valid_until": a.valid_until.date().isoformat(),
             "recorded_by": a.recorded_by, "approved_by": a.approved_by} for a in found]
    _print(rows, ["id", "centre", "title", "status", "in_force", "valid_until", "recorded_by",
                  "approved_by"], f"{len(rows)} impact assessments", as_json)


@dpia_app.command("add")
def dpia_add(
    as_user: AsUser,
    centre: Annotated[str, typer.Option()],
    title: Annotated[str, typer.Option()],
    processing: Annotated[str, typer.Option(help="what is processed, how and by whom")],
    necessity: Annotated[str, typer.Option(help="necessity and proportionality")],
    risks: Annotated[str, typer.Option(help="risks to the people filmed")],
    measures: Annotated[str, typer.Option(help="measures addressing the risks")],
    legal_basis: Annotated[str, typer.Option("--legal-basis")],
    valid_until: Annotated[datetime | None, typer.Option("--valid-until")] = None,
) -> None:
    """Draft an impact assessment for a monitoring centre (administrators)."""
    platform, who = start_as(as_user)
    fields: dict[str, Any] = {"title": title, "processing": processing, "necessity": necessity,
                              "risks": risks, "measures": measures, "legal_basis": legal_basis}
    if valid_until is not None:
        fields["valid_until"] = valid_until.astimezone() if valid_until.tzinfo is None \
            else valid_until
    try:
        found = platform.bus.handle(commands.RecordImpactAssessment(who, centre, fields))
    except SerenoError as error:
        fail(error)
    out.print(f"[green]recorded[/green] {found.id} for {found.centre_id}, pending approval")


@dpia_app.command("approve")
def dpia_approve(as_user: AsUser, assessment_id: str,
                 note: Annotated[str | None, typer.Option()] = None) -> None:
    """Approve a draft (auditors, not its author)."""
    platform, who = start_as(as_user)
    try:
        found = platform.bus.handle(commands.ApproveImpactAssessment(who, assessment_id, note))
    except SerenoError as error:
        fail(error)
    out.print(f"[green]approved[/green] {found.id}: centre {found.centre_id} may be analysed and "
         f"recorded until {found.valid_until.date().isoformat()}")
