"""A real Sereno server process (``sereno serve``) on a demo node, and headless Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = os.environ.get("SERENO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(workdir: Path, **settings: str) -> Iterator[str]:
    """Seed a demo node in ``workdir`` and serve it, as ``make demo`` does, until closed."""
    port = _free_port()
    sereno = str(Path(sys.executable).with_name("sereno"))
    env = {**os.environ, "SERENO_DATA_DIR": str(workdir / "var"),
           "SERENO_MEDIA__SNAPSHOT_REFRESH_SECONDS": "1",
           # An unreachable tile server: the map must fall back to its plain background.
           "SERENO_CONSOLE__MAP_TILE_URL": "http://127.0.0.1:9/{z}/{x}/{y}.png", **settings}
    subprocess.run([sereno, "demo", "seed"], cwd=workdir, env=env, check=True,
                   capture_output=True, timeout=120)
    log = (workdir / "server.log").open("w")
    process = subprocess.Popen([sereno, "serve", "--port", str(port)], cwd=workdir, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((workdir / "server.log").read_text())
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A demo node without the video workers: the console tests need no analytics load (live
    MJPEG and snapshots still work; they decode on demand)."""
    yield from _serve(tmp_path_factory.mktemp("node"), SERENO_VIDEO__ENABLED="false")


@pytest.fixture(scope="module")
def video_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A demo node with the ingest and analytics workers running, so that real detections
    happen (the demo's rules on its clips). Module-scoped: two cores cannot afford to keep it
    analysing while the other browser tests run."""
    yield from _serve(tmp_path_factory.mktemp("video-node"), SERENO_VIDEO__ENABLED="true")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make system-deps`")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="es-EC")
    opened = context.new_page()
    yield opened
    context.close()
