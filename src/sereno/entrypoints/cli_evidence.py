"""``sereno evidence …`` and ``sereno trace-leak``: evidence exports from the command line
(acting as a user, like the API), the offline package check, and leak tracing."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from sereno.domain.errors import SerenoError
from sereno.entrypoints.cli_common import AsJson, AsUser, err, fail, out, start_as

if TYPE_CHECKING:
    from sereno.domain.evidence import EvidenceExport

evidence_app = typer.Typer(help="Evidence exports: request, approve, package, verify.",
                           no_args_is_help=True)






def _recording(value: str) -> tuple[str, datetime, datetime]:
    try:
        camera, start, end = value.split(",")
        return camera.strip(), datetime.fromisoformat(start), datetime.fromisoformat(end)
    except ValueError:
        raise typer.BadParameter("--recording is CAMERA,START,END with ISO 8601 times and a "
                                 "time zone, e.g. SEG-001,2026-11-25T03:00:00-05:00,"
                                 "2026-11-25T03:02:00-05:00") from None


def _row(export: EvidenceExport) -> dict[str, Any]:
    return {"id": export.id, "status": export.status.value, "purpose": export.purpose,
            "case": export.case_reference, "recipient": export.recipient_label,
            "items": len(export.items), "requested_by": export.requested_by_username,
            "requested_at": export.requested_at.isoformat(),
            "decided_by": export.decided_by_username,
            "exported_at": export.exported_at.isoformat() if export.exported_at else None,
            "package_sha256": export.package_sha256}


@evidence_app.command("request")
def evidence_request(
    as_user: AsUser,
    purpose: Annotated[str, typer.Option("--purpose", help="incident_response, investigation, "
                                                         "judicial_request or audit_review")],
    case: Annotated[str, typer.Option("--case", help="an open case of your agency")],
    recipient_name: Annotated[str, typer.Option("--recipient-name")],
    recipient_org: Annotated[str, typer.Option("--recipient-org")],
    justification: Annotated[str, typer.Option("--justification",
                                               help="why the recipient needs it")],
    snapshot: Annotated[list[str] | None, typer.Option(
        "--snapshot", help="a detection id whose snapshot to export (repeatable)")] = None,
    clip: Annotated[list[str] | None, typer.Option(
        "--clip", help="a detection id whose clip to export (repeatable)")] = None,
    recording: Annotated[list[str] | None, typer.Option(
        "--recording", help="CAMERA,START,END: a range of a recording (repeatable)")] = None,
    as_json: AsJson = False,
) -> None:
    """Request an export; an evidence custodian of your agency must approve it."""
    from sereno.services import evidence

    items = ([evidence.ItemRequest("snapshot", d) for d in snapshot or ()]
             + [evidence.ItemRequest("clip", d) for d in clip or ()])
    for value in recording or ():
        camera, start, end = _recording(value)
        items.append(evidence.ItemRequest("recording", camera_id=camera, start=start, end=end))
    platform, who = start_as(as_user)
    try:
        export = evidence.request_export(
            platform.uow(), who, items=items,
            recipient=evidence.Recipient(recipient_name, recipient_org),
            justification=justification, media=platform.media,
            recordings_root=platform.settings.recordings_root, clock=platform.clock,
            purpose=purpose, case=case)
    except SerenoError as error:
        fail(error)
        return
    if as_json:
        sys.stdout.write(json.dumps(_row(export)) + "\n")
    else:
        out.print(f"[green]export requested[/green] {export.id} ({len(export.items)} items); "
             "an evidence custodian must approve it")


@evidence_app.command("approve")
def evidence_approve(as_user: AsUser, export_id: str,
                     note: Annotated[str | None, typer.Option("--note")] = None) -> None:
    """Approve someone else's export request (evidence custodians)."""
    from sereno.services import evidence

    platform, who = start_as(as_user)
    try:
        export = evidence.approve_export(platform.uow(), who, export_id, note, platform.clock)
    except SerenoError as error:
        fail(error)
        return
    out.print(f"[green]approved[/green] {export.id} for {export.recipient_label}")


@evidence_app.command("reject")
def evidence_reject(as_user: AsUser, export_id: str,
                    note: Annotated[str, typer.Option("--note", help="why")]) -> None:
    """Reject someone else's export request, saying why (evidence custodians)."""
    from sereno.services import evidence

    platform, who = start_as(as_user)
    try:
        export = evidence.reject_export(platform.uow(), who, export_id, note, platform.clock)
    except SerenoError as error:
        fail(error)
        return
    out.print(f"rejected {export.id}")


@evidence_app.command("list")
def evidence_list(as_user: AsUser,
                  status: Annotated[str | None, typer.Option("--status")] = None,
                  as_json: AsJson = False) -> None:
    """Your agency's exports (custodians, auditors) or your own requests."""
    from sereno.services import evidence

    platform, who = start_as(as_user)
    try:
        found = evidence.list_exports(platform.uow(), who, status=status)
    except SerenoError as error:
        fail(error)
        return
    rows = [_row(e) for e in found]
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False) + "\n")
        return
    columns = ["id", "status", "case", "recipient", "items", "requested_by", "decided_by"]
    table = Table(*columns, title="evidence exports")
    for row in rows:
        table.add_row(*("" if row[c] is None else str(row[c]) for c in columns))
    out.print(table)


@evidence_app.command("export")
def evidence_export(
    as_user: AsUser, export_id: str,
    output: Annotated[Path, typer.Option("-o", "--output", help="where to write the ZIP")],
) -> None:
    """Write the signed package of an approved export (its requester or a custodian)."""
    from sereno.entrypoints.api.routes.evidence import package_tools
    from sereno.services import evidence

    platform, who = start_as(as_user)
    try:
        export, data = evidence.export_package(platform.uow, who, export_id,
                                               package_tools(platform))
    except SerenoError as error:
        fail(error)
        return
    output.write_bytes(data)
    out.print(f"[green]package written[/green] {output} ({len(data)} bytes, SHA-256 "
         f"{export.package_sha256})")


@evidence_app.command("verify")
def evidence_verify(
    package: Annotated[Path, typer.Argument(help="the evidence package (ZIP)")],
    public_key: Annotated[str | None, typer.Option(
        "--public-key", help="the node's Ed25519 public key (base64) as its agency publishes "
                             "it; without it the key inside the package is used")] = None,
    as_json: AsJson = False,
) -> None:
    """Check a package offline: signature, every file's hash, missing and added files, the
    audit records' inclusion proofs and the tree head's signature. Exit 0 only if all is right.
    """
    from sereno.governance.evidence_package import verify_package

    if not package.is_file():
        err.print(f"[red]no such file:[/red] {package}")
        raise typer.Exit(2)
    report = verify_package(package, public_key)
    if as_json:
        sys.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False) + "\n")
    else:
        for line in report.checked:
            out.print(f"[green]ok[/green]      {line}", highlight=False)
        for line in report.warnings:
            out.print(f"[yellow]warning[/yellow] {line}", highlight=False)
        for line in report.problems:
            out.print(f"[red]WRONG[/red]   {line}", highlight=False)
        out.print("[green]the package is intact[/green]" if report.ok else
                  f"[red]the package was altered or is incomplete: {len(report.problems)} "
                  "problem(s)[/red]")
    raise typer.Exit(0 if report.ok else 1)


def trace_leak(
    image: Annotated[Path, typer.Argument(help="the leaked picture (JPEG, PNG…) or video")],
    as_user: AsUser,
    as_json: AsJson = False,
) -> None:
    """Find which export or viewing session, user and recipient a leaked picture came from
    (auditors). Raises a leak_traced alert and opens a breach case."""
    from sereno.services import evidence
    from sereno.services.footage_release import load_or_create_key, watermark_key_path

    if not image.is_file():

        err.print(f"[red]no such file:[/red] {image}")
        raise typer.Exit(2)
    platform, who = start_as(as_user)
    try:
        found = evidence.trace_leak(
            platform.uow(), who, image.read_bytes(), source=image.name,
            key=load_or_create_key(watermark_key_path(platform.settings.data_dir)),
            clock=platform.clock, publish=platform.bus.publish)
    except SerenoError as error:
        fail(error)
        return
    issue, export = found.issue, found.export
    facts: dict[str, Any] = {
        "kind": issue.kind.value, "reference": issue.reference, "user": issue.username,
        "user_agency": issue.agency_id, "recipient": issue.recipient,
        "camera_id": issue.camera_id, "issued_at": issue.issued_at.isoformat(),
        "payload": issue.payload, "score": round(found.detection.score, 3),
        "alert_id": found.alert_id, "breach_case_id": found.breach_case_id}
    if export is not None:
        facts.update(export_id=export.id, case=export.case_reference,
                     requested_by=export.requested_by_username,
                     approved_by=export.decided_by_username,
                     exported_by=export.exported_by_username)
    if as_json:
        sys.stdout.write(json.dumps(facts, ensure_ascii=False) + "\n")
        return
    what = (f"evidence export {issue.reference}" if export is not None
            else f"{issue.kind.value.replace('_', ' ')} session {issue.reference}")
    out.print(f"[red]leak traced[/red] to {what}")
    for name, value in facts.items():
        if value is not None and name not in ("kind", "reference"):
            out.print(f"  {name}: {value}")
