"""The FastAPI application: API under /api/v1, the console, health, errors and limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from sereno import __version__
from sereno.adapters.video.snapshots import SnapshotGrabber
from sereno.bootstrap import Platform
from sereno.entrypoints.api import errors
from sereno.entrypoints.api.context import API_PREFIX
from sereno.entrypoints.api.limits import BodySizeLimit, SecurityHeaders
from sereno.entrypoints.api.routes import (
    auth,
    cameras,
    directory,
    live,
    metrics,
    security,
    users,
    video,
    watchlist,
)
from sereno.entrypoints.web import console
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
                   live.router, metrics.router, watchlist.router, security.router):
        api.include_router(router)
    app.include_router(api)
    app.include_router(console.router)
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
                       upload_paths=(f"{API_PREFIX}/camera-imports",))
    tile_url = platform.settings.console.map_tile_url
    tile_origin = ""
    if tile_url:
        parts = urlsplit(tile_url.replace("{s}", "a"))
        tile_origin = f"{parts.scheme}://{parts.netloc.replace('a.', '*.', 1)}"
    app.add_middleware(SecurityHeaders, tile_origin=tile_origin)
    return app
