"""The ``sereno`` command line.

Commands that read or change data act *as a named user* (``--as`` or ``SERENO_AS``): the same
agency scoping, permissions and audit apply as through the API, with channel ``cli``. Whoever
can run this on the server can already read the database file, so no password is asked; the
point is that every change is attributed and scoped.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from sereno.adapters.camera_files import kind_from_name, parse_camera_file
from sereno.bootstrap import Platform
from sereno.config import Profile, load_settings
from sereno.domain import commands
from sereno.domain.errors import SerenoError
from sereno.entrypoints import (
    cli_agreements,
    cli_anomalies,
    cli_evidence,
    cli_exchange,
    cli_federation,
    cli_governance,
    cli_incidents,
    cli_integrations,
    cli_operations,
    cli_security,
)
from sereno.entrypoints.cli_common import AsUser, act_as, err, fail, out, start_platform
from sereno.services import cameras as camera_service

app = typer.Typer(help="Sereno: shared video surveillance and joint response.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
config_app = typer.Typer(help="Configuration.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
demo_app = typer.Typer(help="The Guayaquil demo city.", no_args_is_help=True)
cameras_app = typer.Typer(help="Camera registry.", no_args_is_help=True)
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)
worker_app = typer.Typer(help="Background workers.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(cameras_app, name="cameras")
app.add_typer(users_app, name="users")
app.add_typer(worker_app, name="worker")
app.add_typer(cli_security.egress_app, name="egress")
app.add_typer(cli_governance.audit_app, name="audit")
app.add_typer(cli_exchange.cap_app, name="cap")
app.add_typer(cli_agreements.agreements_app, name="agreements")
app.add_typer(cli_federation.federation_app, name="federation")
app.add_typer(cli_governance.policy_app, name="policy")
app.add_typer(cli_governance.cases_app, name="cases")
app.add_typer(cli_governance.peers_app, name="peers")
app.add_typer(cli_security.breaches_app, name="breaches")
app.add_typer(cli_security.dpia_app, name="dpia")
app.add_typer(cli_evidence.evidence_app, name="evidence")
app.add_typer(cli_anomalies.anomalies_app, name="anomalies")
app.add_typer(cli_anomalies.shifts_app, name="shifts")
app.add_typer(cli_integrations.integrations_app, name="integrations")
app.add_typer(cli_operations.operations_app, name="operations")
app.add_typer(cli_incidents.incidents_app, name="incidents")
app.command("trace-leak")(cli_evidence.trace_leak)
retention_app = typer.Typer(help="Retention periods, legal holds and the purge.",
                            no_args_is_help=True)
holds_app = typer.Typer(help="Legal holds: data kept for a case whatever its retention.",
                        no_args_is_help=True)
retention_app.add_typer(holds_app, name="holds")
app.add_typer(retention_app, name="retention")

# -- config / db ------------------------------------------------------------------------------

@config_app.command("show")
def config_show(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Print the effective settings, secrets masked."""
    settings = load_settings()
    data = settings.masked()
    if as_json:
        out.print_json(json.dumps(data))
        return
    table = Table("setting", "value", title=f"Sereno settings ({settings.profile.value})")
    for key, value in _flatten(data):
        table.add_row(key, str(value))
    out.print(table)


def _flatten(data: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for key, value in data.items():
        if isinstance(value, dict):
            rows.extend(_flatten(value, f"{prefix}{key}."))
        else:
            rows.append((f"{prefix}{key}", value))
    return rows


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the migrations up to the latest schema."""
    platform = start_platform(migrate=True)
    from sereno.adapters.db.migrate import current_revision

    out.print(f"database at revision {current_revision(platform.engine)}")


# -- demo -------------------------------------------------------------------------------------

@demo_app.command("seed")
def demo_seed() -> None:
    """Create the demo city (idempotent) and print the demo logins."""
    settings = load_settings()
    if settings.profile is Profile.PRODUCTION:
        err.print("[red]refusing to seed demo accounts with public passwords into the "
                  "production profile[/red]")
        raise typer.Exit(2)
    platform = start_platform()
    from sereno.demo.seed import seed_demo_city

    report = seed_demo_city(platform)
    out.print(f"[green]demo city ready:[/green] {report.agencies} agencies, {report.centres} "
              f"centres, {report.cameras} cameras, {report.users} users; clips: "
              f"{', '.join(report.clips)}")
    _print_demo_users()


@demo_app.command("operation")
def demo_operation() -> None:
    """Plan this week's demo joint operation (Malecón 2000, Segura EP + Policía; idempotent).
    Apart from ``demo seed``: an active operation raises the alerts inside it."""
    if load_settings().profile is Profile.PRODUCTION:
        err.print("[red]refusing to plan a demo operation in the production profile[/red]")
        raise typer.Exit(2)
    from sereno.demo.operations import seed_demo_operation

    code = seed_demo_operation(start_platform())
    out.print(f"joint operation {code} (Malecón 2000, this week)")


def _print_demo_users() -> None:
    from sereno.demo.city import USERS

    table = Table("username", "password", "agency", "roles", "code", title="Demo logins")
    for user in USERS:
        table.add_row(user.username, user.password, user.agency_id, ",".join(user.roles),
                      "TOTP" if user.needs_second_factor else "—")
    out.print(table)
    out.print("Admins, auditors and approvers log in with a one-time code too (TOTP, as from an "
              "authenticator app): [bold]sereno demo otp USERNAME[/bold] prints the current one. "
              "The demo's TOTP secrets are public: demo only.")


@demo_app.command("otp")
def demo_otp(username: str,
             as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Print the current one-time code of a demo account that needs one (demo only)."""
    from datetime import UTC, datetime

    from sereno.adapters.totp import STEP_SECONDS, code_at
    from sereno.demo.city import USERS, demo_totp_secret

    if load_settings().profile is Profile.PRODUCTION:
        err.print("[red]demo codes do not exist on the production profile[/red]")
        raise typer.Exit(2)
    demo = next((u for u in USERS if u.username == username), None)
    if demo is None or not demo.needs_second_factor:
        err.print(f"[red]{username!r} is not a demo account with a second factor[/red] (those "
                  "are admin.*, auditor.* and approver.*)")
        raise typer.Exit(2)
    now = datetime.now(UTC)
    code = code_at(demo_totp_secret(username), now)
    left = STEP_SECONDS - int(now.timestamp()) % STEP_SECONDS
    if as_json:
        sys.stdout.write(json.dumps({"username": username, "code": code,
                                     "valid_for_seconds": left}) + "\n")
        return
    sys.stdout.write(f"{code}\n")
    err.print(f"valid for {left} more s; a code works once")


@demo_app.command("users")
def demo_users(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The demo accounts (username, password, agency, roles, whether a one-time code is
    needed)."""
    from sereno.demo.city import USERS

    if as_json:
        sys.stdout.write(json.dumps([{"username": u.username, "password": u.password,
                                      "agency": u.agency_id, "roles": list(u.roles),
                                      "otp": u.needs_second_factor}
                                     for u in USERS], ensure_ascii=False) + "\n")
        return
    _print_demo_users()


# -- serve ------------------------------------------------------------------------------------

@app.command("serve")
def serve(host: Annotated[str | None, typer.Option()] = None,
          port: Annotated[int | None, typer.Option()] = None) -> None:
    """Run the API and console (migrating the database first)."""
    import uvicorn

    from sereno.entrypoints.api.app import create_app

    platform = start_platform()
    settings = platform.settings
    bind_host, bind_port = host or settings.http.host, port or settings.http.port
    app_ = create_app(platform)
    stop_health = None
    video_node = None
    if settings.video.enabled:
        from sereno.video.node import VideoNode

        video_node = VideoNode(platform)
        video_node.start()
        app_.state.video_health = video_node.health
        app_.state.live_hub.shared_source = video_node.live_frame
    elif settings.workers.stream_health_in_server:
        from sereno.entrypoints.workers import stream_health

        stop_health = stream_health.start_in_thread(
            platform, app_.state.snapshots.probe, settings.workers.stream_health_interval_seconds)
    stop_retention = None
    if settings.retention.in_server:
        from sereno.entrypoints.workers import retention as retention_worker

        stop_retention = retention_worker.start_in_thread(platform,
                                                          settings.retention.interval_seconds)
    from sereno.entrypoints.workers import audit_log as audit_log_worker

    stop_audit_log = audit_log_worker.start_in_thread(platform)
    from sereno.entrypoints.workers import federation as federation_worker

    stop_federation = federation_worker.start_in_thread(platform)
    stop_anomalies = None
    if settings.anomalies.in_server:
        from sereno.entrypoints.workers import anomalies as anomaly_worker

        stop_anomalies = anomaly_worker.start_in_thread(platform,
                                                        settings.anomalies.interval_seconds)
    stop_fleet = None
    if settings.demo.simulate_fleet and settings.profile is Profile.EMBEDDED:
        from sereno.entrypoints.workers import fleet_sim  # the demo's moving units (ADR 0032)

        stop_fleet = fleet_sim.start_in_thread(platform)
    stop_integrations = None
    if settings.integrations.in_server:  # alert webhooks and MQTT (ADR 0029)
        from sereno.entrypoints.workers import integrations as integration_worker

        stop_integrations = integration_worker.start_in_thread(platform)
    if settings.bus.relay_events:  # other processes' alert events reach this one's consoles
        from sereno.adapters.bus import TransportError

        try:
            platform.event_relay.start()
        except TransportError as error:
            err.print(f"warning: bus transport unavailable ({error}); this process's consoles "
                      "show only the alerts it handles itself")
    out.print(f"Sereno ({settings.profile.value}) at http://{bind_host}:{bind_port}/ — "
              "Ctrl+C to stop")
    try:
        # Open live streams (SSE, MJPEG) never end by themselves: give them 5 s on shutdown.
        uvicorn.run(app_, host=bind_host, port=bind_port, log_level="info",
                    proxy_headers=False, server_header=False, timeout_graceful_shutdown=5)
    finally:
        if stop_integrations is not None:
            stop_integrations.set()
        if stop_fleet is not None:
            stop_fleet.set()
        if stop_anomalies is not None:
            stop_anomalies.set()
        if stop_retention is not None:
            stop_retention.set()
        stop_audit_log.set()
        stop_federation.set()
        if stop_health is not None:
            stop_health.set()
        if video_node is not None:
            video_node.stop()
        platform.close()


@worker_app.command("stream-health")
def worker_stream_health(
    once: Annotated[bool, typer.Option("--once", help="one round, print it, exit")] = False,
) -> None:
    """Probe every camera's stream and keep camera statuses true (a separate process)."""
    import threading

    from sereno.adapters.video.snapshots import SnapshotGrabber
    from sereno.entrypoints.workers import stream_health

    platform = start_platform()
    grabber = SnapshotGrabber(platform.settings.media.allowed_file_roots)
    if once:
        for camera_id, error in stream_health.probe_all(platform, grabber.probe).items():
            out.print(f"{camera_id}: {'ok' if error is None else error}")
        return
    stop = threading.Event()
    try:
        stream_health.run_forever(platform, grabber.probe,
                                  platform.settings.workers.stream_health_interval_seconds, stop)
    except KeyboardInterrupt:
        stop.set()


# -- cameras ----------------------------------------------------------------------------------

@cameras_app.command("list")
def cameras_list(as_user: AsUser,
                 as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the cameras the user's agency may see."""
    platform = start_platform()
    who = act_as(platform, as_user)
    try:
        found = camera_service.list_cameras(platform.uow(), who)
    except SerenoError as error:
        fail(error)
    views = [camera_service.public_view(c, who) for c in found]
    if as_json:
        sys.stdout.write(json.dumps(views, ensure_ascii=False) + "\n")
        return
    table = Table("id", "name", "agency", "status", "class", "lat", "lon",
                  title=f"{len(views)} cameras")
    for v in views:
        table.add_row(v["id"], v["name"], v["owner_agency"], v["status"], v["classification"],
                      f"{v['latitude']:.5f}", f"{v['longitude']:.5f}")
    out.print(table)


@cameras_app.command("add")
def cameras_add(
    as_user: AsUser,
    camera_id: Annotated[str, typer.Option("--id")],
    name: Annotated[str, typer.Option()],
    centre: Annotated[str, typer.Option()],
    lat: Annotated[float, typer.Option()],
    lon: Annotated[float, typer.Option()],
    main_url: Annotated[str, typer.Option("--main-url")],
    sub_url: Annotated[str | None, typer.Option("--sub-url")] = None,
    heading: Annotated[float, typer.Option()] = 0.0,
    fov: Annotated[float, typer.Option()] = 60.0,
    range_m: Annotated[float, typer.Option("--range")] = 50.0,
    classification: Annotated[str, typer.Option()] = "private",
    tag: Annotated[list[str] | None, typer.Option("--tag")] = None,
) -> None:
    """Register one camera in the user's agency."""
    platform = start_platform()
    who = act_as(platform, as_user)
    fields = {"id": camera_id, "name": name, "centre_id": centre, "latitude": lat,
              "longitude": lon, "main_stream_url": main_url, "sub_stream_url": sub_url,
              "heading_deg": heading, "fov_deg": fov, "range_m": range_m,
              "classification": classification, "tags": tag or []}
    try:
        camera = platform.bus.handle(commands.RegisterCamera(who, fields))
    except SerenoError as error:
        fail(error)
    out.print(f"[green]registered[/green] {camera.id} ({camera.name})")


@cameras_app.command("import")
def cameras_import(
    as_user: AsUser,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    dry_run: Annotated[bool, typer.Option("--dry-run")] = False,
    file_format: Annotated[str | None, typer.Option("--format")] = None,
) -> None:
    """Import cameras from CSV or GeoJSON: all rows or none, with a per-row report."""
    platform = start_platform()
    who = act_as(platform, as_user)
    try:
        rows = parse_camera_file(file.read_bytes(), file_format or kind_from_name(file.name))
        report = platform.bus.handle(commands.ImportCameras(who, rows, f"cli:{file.name}",
                                                            dry_run))
    except SerenoError as error:
        if error.details:
            table = Table("row", "camera", "field", "reason", title="rejected rows")
            for d in error.details:
                table.add_row(str(d.get("row")), str(d.get("camera_id") or ""),
                              str(d.get("field")), str(d.get("reason")))
            err.print(table)
        err.print(f"[red]{error.code}:[/red] {error.message}")
        raise typer.Exit(1) from error
    verb = "would import" if dry_run else "imported"
    out.print(f"[green]{verb}[/green] {len(report.imported) or report.total_rows} camera(s)")


@cameras_app.command("export")
def cameras_export(
    as_user: AsUser,
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
) -> None:
    """Export the visible cameras as GeoJSON (to a file or standard output)."""
    platform = start_platform()
    who = act_as(platform, as_user)
    try:
        collection = camera_service.export_geojson(platform.uow(), who)
    except SerenoError as error:
        fail(error)
    text = json.dumps(collection, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        out.print(f"wrote {len(collection['features'])} cameras to {output}")


@cameras_app.command("retire")
def cameras_retire(as_user: AsUser, camera_id: str) -> None:
    """Retire one of the user's agency's cameras."""
    platform = start_platform()
    who = act_as(platform, as_user)
    try:
        platform.bus.handle(commands.RetireCamera(who, camera_id))
    except SerenoError as error:
        fail(error)
    out.print(f"retired {camera_id}")


# -- retention --------------------------------------------------------------------------------

def _moment(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        err.print(f"[red]{name} is not an ISO 8601 time[/red] (e.g. 2026-11-25T10:00:00Z)")
        raise typer.Exit(2) from None


@retention_app.command("policies")
def retention_policies(as_user: AsUser,
                       as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The retention periods of the user's agency (its own or the defaults)."""
    from sereno.services import retention

    platform = start_platform()
    who = act_as(platform, as_user)
    try:
        lines = retention.list_policies(platform.uow(), who)
    except SerenoError as error:
        fail(error)
    rows = [{"data_class": p.data_class.value, "camera_id": p.camera_id,
             "period_days": p.period_days, "source": "default" if p.updated_at is None
             else "agency", "updated_by": p.updated_by} for p in lines]
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False) + "\n")
        return
    table = Table("class", "camera", "days", "source", "changed by",
                  title=f"Retention periods of {who.agency_id}")
    for row in rows:
        table.add_row(*(str(row[key] or "") for key in ("data_class", "camera_id",
                                                         "period_days", "source",
                                                         "updated_by")))
    out.print(table)


@retention_app.command("set-policy")
def retention_set_policy(
    as_user: AsUser,
    data_class: Annotated[str, typer.Argument(help="recording, event_clip, snapshot, alert, "
                                                   "personal_data or audit")],
    days: Annotated[int | None, typer.Argument(help="period in days (omit with --reset)")] = None,
    camera: Annotated[str | None, typer.Option(help="one camera's recordings")] = None,
    reset: Annotated[bool, typer.Option("--reset", help="back to the default")] = False,
) -> None:
    """Change a retention period of the user's agency (administrators)."""
    if (days is None) != reset:
        err.print("[red]give a number of days, or --reset[/red]")
        raise typer.Exit(2)
    platform = start_platform()
    who = act_as(platform, as_user)
    try:
        line = platform.bus.handle(commands.SetRetentionPolicy(who, data_class, days, camera))
    except SerenoError as error:
        fail(error)
    scope = f" for {line.camera_id}" if line.camera_id else ""
    out.print(f"{line.data_class.value}{scope}: {line.period_days} days")


@retention_app.command("purge")
def retention_purge(
    as_user: Annotated[str, typer.Option(
        "--as", envvar="SERENO_AS",
        help="Username to act as (an administrator), or 'system' for every agency.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="report, delete nothing")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Delete what is past its retention period and not under a legal hold; audited."""
    platform = start_platform()
    if as_user == "system":
        from sereno.entrypoints.workers.retention import purge_all

        reports = purge_all(platform, dry_run=dry_run, record_empty=True,
                            component="retention-cli")
    else:
        who = act_as(platform, as_user)
        try:
            reports = [platform.bus.handle(commands.PurgeExpired(who, dry_run=dry_run))]
        except SerenoError as error:
            fail(error)
    if as_json:
        sys.stdout.write(json.dumps([{"agency": r.agency_id, **r.as_detail()} for r in reports],
                                    ensure_ascii=False) + "\n")
        return
    for report in reports:
        verb = "would delete" if dry_run else "deleted"
        table = Table("class", verb, "bytes", "held",
                      title=f"Purge of {report.agency_id}" + (" (dry run)" if dry_run else ""))
        for data_class, part in report.classes.items():
            table.add_row(data_class.value, str(part.deleted), str(part.bytes), str(part.held))
        table.add_row("audit", "kept (sealed log; pruning handled by the audit log)", "", "")
        out.print(table)
        if report.more:
            out.print("more is due than one run deletes: the next run continues")


@holds_app.command("list")
def holds_list(as_user: AsUser,
               active: Annotated[bool, typer.Option("--active", help="only active")] = False,
               as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The legal holds of the user's agency."""
    from sereno.services import retention

    platform = start_platform()
    who = act_as(platform, as_user)
    try:
        holds = retention.list_holds(platform.uow(), who, active_only=active)
    except SerenoError as error:
        fail(error)
    if as_json:
        sys.stdout.write(json.dumps([_hold_json(h) for h in holds], ensure_ascii=False) + "\n")
        return
    table = Table("id", "case", "placed", "by", "cameras", "range", "detections", "released",
                  title=f"{len(holds)} legal holds")
    for h in holds:
        span = f"{h.start:%Y-%m-%d %H:%M} – {h.end:%Y-%m-%d %H:%M}" if h.start and h.end else ""
        table.add_row(h.id, h.case_reference, f"{h.placed_at:%Y-%m-%d %H:%M}",
                      h.placed_by_username, ",".join(h.camera_ids), span,
                      str(len(h.detection_ids)),
                      f"{h.released_at:%Y-%m-%d %H:%M}" if h.released_at else "")
    out.print(table)


def _hold_json(hold: Any) -> dict[str, Any]:
    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {"id": hold.id, "case_reference": hold.case_reference, "reason": hold.reason,
            "placed_by": hold.placed_by_username, "placed_at": iso(hold.placed_at),
            "camera_ids": hold.camera_ids, "start": iso(hold.start), "end": iso(hold.end),
            "detection_ids": hold.detection_ids, "released_at": iso(hold.released_at),
            "released_by": hold.released_by_username, "release_reason": hold.release_reason}


@holds_app.command("place")
def holds_place(
    as_user: AsUser,
    case: Annotated[str, typer.Option("--case", help="FGE-YYYY-NNNNNN, INC-YYYY-NNNN or "
                                                     "CASE-YYYY-NNN")],
    reason: Annotated[str, typer.Option()],
    camera: Annotated[list[str] | None, typer.Option("--camera")] = None,
    start: Annotated[str | None, typer.Option(help="ISO 8601 with zone")] = None,
    end: Annotated[str | None, typer.Option(help="ISO 8601 with zone")] = None,
    detection: Annotated[list[str] | None, typer.Option("--detection")] = None,
) -> None:
    """Keep cameras' footage over a range, and/or detections, for a case."""
    platform = start_platform()
    who = act_as(platform, as_user)
    try:
        hold = platform.bus.handle(commands.PlaceLegalHold(
            who, case, reason, tuple(camera or ()), _moment(start, "--start"),
            _moment(end, "--end"), tuple(detection or ())))
    except SerenoError as error:
        fail(error)
    out.print(f"[green]legal hold placed[/green] {hold.id} ({hold.case_reference})")


@holds_app.command("release")
def holds_release(as_user: AsUser, hold_id: str,
                  reason: Annotated[str, typer.Option()]) -> None:
    """Release a legal hold (evidence custodians): what it kept ages normally again."""
    platform = start_platform()
    who = act_as(platform, as_user)
    try:
        hold = platform.bus.handle(commands.ReleaseLegalHold(who, hold_id, reason))
    except SerenoError as error:
        fail(error)
    out.print(f"released {hold.id} ({hold.case_reference})")


# -- users ------------------------------------------------------------------------------------

def _user_id(platform: Platform, username: str) -> str:
    with platform.uow() as uow:
        user = uow.users.by_username(username)
    if user is None:
        err.print(f"[red]no user {username!r}[/red]")
        raise typer.Exit(2)
    return user.id


@users_app.command("set-password")
def users_set_password(as_user: AsUser, username: str) -> None:
    """Set a user's password (administrators; read twice from the terminal, never an
    argument). The password policy applies; the user's sessions and tokens end."""
    platform = start_platform()
    who = act_as(platform, as_user)
    password = typer.prompt("new password", hide_input=True, confirmation_prompt=True)
    try:
        platform.bus.handle(commands.UpdateUser(who, _user_id(platform, username),
                                                {"password": password}))
    except SerenoError as error:
        fail(error)
    out.print(f"[green]password of {username} changed[/green]")


@users_app.command("reset-second-factor")
def users_reset_second_factor(as_user: AsUser, username: str) -> None:
    """Remove a user's authenticator app (administrators, not their own): the user's sessions
    and tokens end and their next console login enrols a new app."""
    platform = start_platform()
    who = act_as(platform, as_user)
    try:
        platform.bus.handle(commands.ResetSecondFactor(who, _user_id(platform, username)))
    except SerenoError as error:
        fail(error)
    out.print(f"[green]second factor of {username} reset[/green]: the next console login "
              "sets up a new authenticator app")


@users_app.command("unlock")
def users_unlock(as_user: AsUser, username: str) -> None:
    """Lift a lockout before it runs out (administrators)."""
    platform = start_platform()
    who = act_as(platform, as_user)
    try:
        platform.bus.handle(commands.UnlockUser(who, _user_id(platform, username)))
    except SerenoError as error:
        fail(error)
    out.print(f"[green]{username} unlocked[/green]")


if __name__ == "__main__":
    app()
