"""The ``sereno`` command line.

Commands that read or change data act *as a named user* (``--as`` or ``SERENO_AS``): the same
agency scoping, permissions and audit apply as through the API, with channel ``cli``. Whoever
can run this on the server can already read the database file, so no password is asked; the
point is that every change is attributed and scoped.
"""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from sereno.adapters.camera_files import kind_from_name, parse_camera_file
from sereno.bootstrap import Platform, bootstrap
from sereno.config import Profile, load_settings
from sereno.domain import commands
from sereno.domain.access import Principal
from sereno.domain.errors import SerenoError
from sereno.services import accounts
from sereno.services import cameras as camera_service

app = typer.Typer(help="Sereno: shared video surveillance and joint response.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
config_app = typer.Typer(help="Configuration.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
demo_app = typer.Typer(help="The Guayaquil demo city.", no_args_is_help=True)
cameras_app = typer.Typer(help="Camera registry.", no_args_is_help=True)
worker_app = typer.Typer(help="Background workers.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(cameras_app, name="cameras")
app.add_typer(worker_app, name="worker")

out = Console()
err = Console(stderr=True)

AsUser = Annotated[str, typer.Option("--as", envvar="SERENO_AS",
                                     help="Username to act as (scoping and audit).")]


def _platform(migrate: bool = True) -> Platform:
    try:
        return bootstrap(load_settings(), run_migrations=migrate)
    except Exception as error:  # configuration or database problems: say so plainly
        err.print(f"[red]cannot start:[/red] {error}")
        raise typer.Exit(2) from error


def _act_as(platform: Platform, username: str) -> Principal:
    with platform.uow() as uow:
        user = uow.users.by_username(username)
    if user is None or user.disabled:
        err.print(f"[red]no active user {username!r}[/red]")
        raise typer.Exit(2)
    return accounts.principal_for(user, channel="cli", address=f"local:{getpass.getuser()}")


def _fail(error: SerenoError) -> None:
    err.print(f"[red]{error.code}:[/red] {error.message}")
    for detail in error.details[:50]:
        err.print(f"  {detail}")
    raise typer.Exit(1)


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
    platform = _platform(migrate=True)
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
    platform = _platform()
    from sereno.demo.seed import seed_demo_city

    report = seed_demo_city(platform)
    out.print(f"[green]demo city ready:[/green] {report.agencies} agencies, {report.centres} "
              f"centres, {report.cameras} cameras, {report.users} users; clips: "
              f"{', '.join(report.clips)}")
    _print_demo_users()


def _print_demo_users() -> None:
    from sereno.demo.city import USERS

    table = Table("username", "password", "agency", "roles", title="Demo logins")
    for user in USERS:
        table.add_row(user.username, user.password, user.agency_id, ",".join(user.roles))
    out.print(table)


@demo_app.command("users")
def demo_users(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The demo accounts (username, password, agency, roles)."""
    from sereno.demo.city import USERS

    if as_json:
        sys.stdout.write(json.dumps([{"username": u.username, "password": u.password,
                                      "agency": u.agency_id, "roles": list(u.roles)}
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

    platform = _platform()
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
    out.print(f"Sereno ({settings.profile.value}) at http://{bind_host}:{bind_port}/ — "
              "Ctrl+C to stop")
    try:
        uvicorn.run(app_, host=bind_host, port=bind_port, log_level="info",
                    proxy_headers=False, server_header=False)
    finally:
        if stop_health is not None:
            stop_health.set()
        if video_node is not None:
            video_node.stop()


@worker_app.command("stream-health")
def worker_stream_health(
    once: Annotated[bool, typer.Option("--once", help="one round, print it, exit")] = False,
) -> None:
    """Probe every camera's stream and keep camera statuses true (a separate process)."""
    import threading

    from sereno.adapters.video.snapshots import SnapshotGrabber
    from sereno.entrypoints.workers import stream_health

    platform = _platform()
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
    platform = _platform()
    who = _act_as(platform, as_user)
    try:
        found = camera_service.list_cameras(platform.uow(), who)
    except SerenoError as error:
        _fail(error)
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
    platform = _platform()
    who = _act_as(platform, as_user)
    fields = {"id": camera_id, "name": name, "centre_id": centre, "latitude": lat,
              "longitude": lon, "main_stream_url": main_url, "sub_stream_url": sub_url,
              "heading_deg": heading, "fov_deg": fov, "range_m": range_m,
              "classification": classification, "tags": tag or []}
    try:
        camera = platform.bus.handle(commands.RegisterCamera(who, fields))
    except SerenoError as error:
        _fail(error)
    out.print(f"[green]registered[/green] {camera.id} ({camera.name})")


@cameras_app.command("import")
def cameras_import(
    as_user: AsUser,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    dry_run: Annotated[bool, typer.Option("--dry-run")] = False,
    file_format: Annotated[str | None, typer.Option("--format")] = None,
) -> None:
    """Import cameras from CSV or GeoJSON: all rows or none, with a per-row report."""
    platform = _platform()
    who = _act_as(platform, as_user)
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
    platform = _platform()
    who = _act_as(platform, as_user)
    try:
        collection = camera_service.export_geojson(platform.uow(), who)
    except SerenoError as error:
        _fail(error)
    text = json.dumps(collection, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        out.print(f"wrote {len(collection['features'])} cameras to {output}")


@cameras_app.command("retire")
def cameras_retire(as_user: AsUser, camera_id: str) -> None:
    """Retire one of the user's agency's cameras."""
    platform = _platform()
    who = _act_as(platform, as_user)
    try:
        platform.bus.handle(commands.RetireCamera(who, camera_id))
    except SerenoError as error:
        _fail(error)
    out.print(f"retired {camera_id}")


if __name__ == "__main__":
    app()
