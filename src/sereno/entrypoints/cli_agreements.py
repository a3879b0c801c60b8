"""``sereno agreements …``: what an agency shares with another (ADR 0025)."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Annotated, Any

import typer

from sereno.bootstrap import Platform
from sereno.domain.agreements import SharingAgreement
from sereno.domain.errors import InvalidInput, SerenoError
from sereno.entrypoints.cli_common import AsJson, AsUser, fail, out, start_as
from sereno.services import agreements
from sereno.services.unit_of_work import UnitOfWork

agreements_app = typer.Typer(help="Sharing agreements between agencies.", no_args_is_help=True)


def _row(agreement: SharingAgreement) -> dict[str, Any]:
    return {"id": agreement.id, "title": agreement.title, **agreements.summary(agreement)}


def _publish(platform: Platform, uow: UnitOfWork) -> None:
    for event in list(uow.collect_new_events()):
        platform.bus.publish(event)


@agreements_app.command("list")
def agreements_list(as_user: AsUser, as_json: AsJson = False) -> None:
    """The agreements your agency gives or receives, newest first."""
    platform, who = start_as(as_user)
    try:
        found = agreements.list_agreements(platform.uow(), who)
    except SerenoError as error:
        fail(error)
    if as_json:
        sys.stdout.write(json.dumps([_row(a) for a in found], ensure_ascii=False) + "\n")
        return
    for a in found:
        until = a.valid_until.date().isoformat() if a.valid_until else "—"
        out.print(f"{a.id}  {a.status.value:<8} {a.from_agency_id} → {a.to_agency_id}  "
                  f"{','.join(a.categories)} ≥{a.min_severity.value}  hasta {until}  "
                  f"media={'sí' if a.include_media else 'no'} "
                  f"cámaras={'sí' if a.share_footage else 'no'}  {a.title}",
                  markup=False, highlight=False)


def _when(value: str | None, what: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(InvalidInput(f"{what} is not an ISO 8601 date-time: {value!r}"))
    if moment.tzinfo is None:
        fail(InvalidInput(f"{what} needs a time zone (e.g. 2026-01-01T00:00:00-05:00)"))
    return moment


@agreements_app.command("create")
def agreements_create(
    to_agency: Annotated[str, typer.Argument(help="the receiving agency")],
    title: str,
    as_user: AsUser,
    category: Annotated[list[str], typer.Option(
        "--category", help="a CAP category it shares (repeat)")],
    min_severity: Annotated[str, typer.Option(help="Minor, Moderate, Severe, Extreme")] = "Minor",
    valid_from: Annotated[str | None, typer.Option(help="ISO 8601; default now")] = None,
    valid_until: Annotated[str | None, typer.Option(help="ISO 8601; default open-ended")] = None,
    include_media: Annotated[bool, typer.Option("--include-media")] = False,
    no_redact_faces: Annotated[bool, typer.Option("--no-redact-faces")] = False,
    no_redact_plates: Annotated[bool, typer.Option("--no-redact-plates")] = False,
    share_footage: Annotated[bool, typer.Option("--share-footage")] = False,
    share_watchlists: Annotated[bool, typer.Option("--share-watchlists")] = False,
    area: Annotated[str | None, typer.Option(help="GeoJSON Polygon (lon, lat) as text")] = None,
    as_json: AsJson = False,
) -> None:
    """A new agreement from your agency to TO_AGENCY (administrators)."""
    platform, who = start_as(as_user)
    try:
        shape = json.loads(area) if area else None
    except json.JSONDecodeError as error:
        fail(InvalidInput(f"--area is not JSON: {error.msg}"))
    draft = agreements.AgreementDraft(
        to_agency_id=to_agency, title=title, categories=list(category),
        min_severity=min_severity, valid_from=_when(valid_from, "--valid-from"),
        valid_until=_when(valid_until, "--valid-until"), include_media=include_media,
        redact_faces=not no_redact_faces, redact_plates=not no_redact_plates,
        share_footage=share_footage, share_watchlists=share_watchlists, area=shape)
    uow = platform.uow()
    try:
        created = agreements.create_agreement(uow, who, draft, platform.clock)
    except SerenoError as error:
        fail(error)
    _publish(platform, uow)
    if as_json:
        sys.stdout.write(json.dumps(_row(created), ensure_ascii=False) + "\n")
    else:
        out.print(created.id, markup=False, highlight=False)


@agreements_app.command("revoke")
def agreements_revoke(agreement_id: str, reason: str, as_user: AsUser) -> None:
    """End an agreement of your agency now, with REASON (it stays on record)."""
    platform, who = start_as(as_user)
    uow = platform.uow()
    try:
        agreements.revoke_agreement(uow, who, agreement_id, reason, platform.clock)
    except SerenoError as error:
        fail(error)
    _publish(platform, uow)
    out.print(f"revoked {agreement_id}", markup=False, highlight=False)
