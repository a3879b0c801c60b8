"""The FastAPI application: API under /api/v1, the console, health, errors and limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from sereno import __version__
from sereno.adapters.video.snapshots import SnapshotGrabber
from sereno.bootstrap import Platform
from sereno.domain import events
from sereno.entrypoints.api import errors
from sereno.entrypoints.api.context import API_PREFIX
from sereno.entrypoints.api.limits import BodySizeLimit, SecurityHeaders
from sereno.entrypoints.api.routes import (
    agreements,
    alert_stream,
    alerts,
    audit_log,
    audit_search,
    auth,
    cameras,
    cap,
    directory,
    evidence,
    federation,
    governance,
    governance_registry,
    incident_stream,
    incidents,
    integrations,
    live,
    metrics,
    operations,
    retention,
    security,
    units,
    users,
    video,
    watchlist,
)
from sereno.entrypoints.web import alert_console, audit_console, console
from sereno.entrypoints.web.incident_console import router as incident_console_router
from sereno.entrypoints.web.retention_page import router as retention_page_router
from sereno.services.egress import MapTileGate
from sereno.video.live import LiveHub

STATIC_DIR = Path(__file__).resolve().parent.parent / "web" / "static"


def create_app(platform: Platform) -> FastAPI:
    """Build the ASGI application around an already bootstrapped platform."""
    app = FastAPI(
        title="Sereno API", version=__version__,
        description="Shared video-surveillance and joint response. Every route needs a bearer "
                    "token (POST /api/v1/auth/token) or a console session.",
        openapi_url=f"{API_PREFIX}/openapi.json", docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    app.state.platform = platform
    app.state.snapshots = SnapshotGrabber(platform.settings.media.allowed_file_roots)
    errors.install(app)

    api = APIRouter(prefix=API_PREFIX)
    app.state.video_health = None  # set by `sereno serve` when the video workers run
    app.state.live_hub = LiveHub()
    for router in (auth.router, cameras.router, users.router, directory.router, video.router,
                   live.router, metrics.router, watchlist.router, security.router,
                   governance_registry.router):
        api.include_router(router)
    api.include_router(retention.router)
    api.include_router(governance.router)
    api.include_router(audit_log.router)
    api.include_router(audit_search.router)
    api.include_router(evidence.router)
    api.include_router(integrations.router)
    api.include_router(federation.router)
    api.include_router(alert_stream.router)  # before /alerts/{alert_id} matches it
    api.include_router(alerts.router)
    api.include_router(agreements.router)
    api.include_router(cap.router)
    api.include_router(incident_stream.router)  # before /incidents/{incident_id} matches it
    api.include_router(incidents.router)
    api.include_router(units.router)
    api.include_router(operations.router)
    app.include_router(api)
    app.include_router(console.router)
    app.include_router(audit_console.router)
    app.include_router(alert_console.router)
    app.include_router(retention_page_router)
    app.include_router(incident_console_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/healthz", tags=["health"], include_in_schema=True)
    def healthz(request: Request) -> JSONResponse:
        """Liveness and database reachability; needs no login and reveals nothing else."""
        try:
            with platform.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            database = "ok"
        except Exception:
            database = "unreachable"
        status = 200 if database == "ok" else 503
        body: dict[str, Any] = {"status": "ok" if status == 200 else "degraded",
                                "database": database}
        return JSONResponse(body, status_code=status)

    http = platform.settings.http
    app.add_middleware(BodySizeLimit, default_limit=http.max_body_bytes,
                       upload_limit=http.max_upload_bytes,
                       upload_paths=(f"{API_PREFIX}/camera-imports",
                                     f"{API_PREFIX}/witness/tree-heads",
                                     f"{API_PREFIX}/federation/envelopes",
                                     f"{API_PREFIX}/cap"))  # CAP: 2 MB, checked there
    # Map tiles only from an approved map_tiles egress destination (checked now and again
    # while running; see docs/governance/egress.md).
    tiles = MapTileGate(platform.uow, platform.settings.console.map_tile_url)
    tiles.url()
    platform.bus.subscribe(events.EgressDestinationChanged, tiles.forget)
    app.state.map_tiles = tiles
    app.add_middleware(SecurityHeaders, tile_origin=tiles.origin)
    return app
