"""A real RTSP server for tests: ``scripts/rtsp_server.py`` run under Debian's Python.

``RtspServer`` starts the server on a free port with the given clips, waits for its ``ready``
line and hands out the stream URLs; ``kill()`` drops it like a camera losing power and
``restart()`` brings it back on the same port, so tests can check reconnection::

    with RtspServer({"street": clip}, tmp_path) as server:
        container = av.open(server.url("street"), options=FAST_OPEN)
"""

from __future__ import annotations

import functools
import os
import re
import selectors
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

import pytest

SYSTEM_PYTHON = Path("/usr/bin/python3")  # the GStreamer RTSP server only imports here
SERVER_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "rtsp_server.py"
READY = re.compile(r"^ready port=(\d+)$")

# PyAV options that open a stream of this server in well under a second after the first key
# frame: without ``fpsprobesize`` FFmpeg reads ~20 frames just to guess the frame rate.
FAST_OPEN = {"rtsp_transport": "tcp", "fpsprobesize": "1", "timeout": "5000000"}


@functools.cache
def rtsp_server_missing() -> str | None:
    """Why the server cannot run on this machine, or None when it can."""
    if not SYSTEM_PYTHON.exists():
        return f"{SYSTEM_PYTHON} not found"
    probe = ("import gi; gi.require_version('Gst', '1.0'); "
             "gi.require_version('GstRtspServer', '1.0'); "
             "from gi.repository import Gst, GstRtspServer")
    result = subprocess.run([str(SYSTEM_PYTHON), "-c", probe], capture_output=True, text=True,
                            timeout=30, check=False)
    if result.returncode != 0:
        return f"GStreamer RTSP server not importable: {result.stderr.strip()[-200:]}"
    return None


def require_rtsp_server() -> None:
    """Skip the calling test when the Debian GStreamer packages are not installed."""
    missing = rtsp_server_missing()
    if missing is not None:
        pytest.skip(missing)


class RtspServer:
    """One ``rtsp_server.py`` process serving ``streams`` (name → file) as looping cameras."""

    def __init__(self, streams: Mapping[str, Path], workdir: Path, *, port: int = 0,
                 extra_args: tuple[str, ...] = (), ready_timeout_s: float = 60.0) -> None:
        self.streams = dict(streams)
        self.workdir = workdir
        self.port = port
        self.extra_args = extra_args
        self.ready_timeout_s = ready_timeout_s
        self.log_path = workdir / "rtsp_server.log"
        self._process: subprocess.Popen[bytes] | None = None
        self.returncode: int | None = None  # of the last process that ended

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the process and wait for ``ready`` (the first start picks a free port)."""
        if self.running:
            raise RuntimeError("the RTSP server is already running")
        deadline = time.monotonic() + self.ready_timeout_s
        while True:
            error = self._launch(deadline)
            if error is None:
                return
            # A restart can race the old socket's release; anything else is a real failure.
            if self.port == 0 or time.monotonic() > deadline or "cannot listen" not in error:
                raise RuntimeError(f"RTSP server did not start: {error}\n{self.log_tail()}")
            time.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL, without any goodbye to the clients (a camera losing power)."""
        if self._process is not None:
            self._process.kill()
            self._reap()

    def stop(self) -> None:
        """SIGTERM and wait for the clean exit."""
        if self._process is not None:
            self._process.send_signal(signal.SIGTERM)
            self._reap()

    def _reap(self) -> None:
        assert self._process is not None
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)
        if self._process.stdout is not None:
            self._process.stdout.close()
        self.returncode = self._process.returncode
        self._process = None

    def restart(self) -> None:
        """Kill if needed and start again on the same port."""
        self.kill()
        self.start()

    def __enter__(self) -> RtspServer:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    # -- what tests look at ------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int:
        """The server's process id."""
        if self._process is None:
            raise RuntimeError("the RTSP server is not running")
        return self._process.pid

    @property
    def urls(self) -> dict[str, str]:
        """Stream name → ``rtsp://127.0.0.1:PORT/NAME``."""
        return {name: self.url(name) for name in self.streams}

    def url(self, name: str) -> str:
        """The URL of one stream."""
        if name not in self.streams:
            raise KeyError(name)
        return f"rtsp://127.0.0.1:{self.port}/{name}"

    def log_tail(self, lines: int = 20) -> str:
        """The end of the server's stderr, for failure messages."""
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    # -- internals ---------------------------------------------------------------------------

    def _launch(self, deadline: float) -> str | None:
        """Start one process; None once it is ready, else why it is not."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        command = [str(SYSTEM_PYTHON), str(SERVER_SCRIPT), "--port", str(self.port),
                   "--cache-dir", str(self.workdir / "cache"), *self.extra_args]
        for name, path in self.streams.items():
            command += ["--stream", f"{name}={path}"]
        # The venv's variables would point Debian's interpreter at the wrong site-packages.
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME",
                                                                  "VIRTUAL_ENV")}
        with self.log_path.open("a") as log:
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, env=env)
        assert process.stdout is not None
        fd = process.stdout.fileno()
        pending = b""
        # Raw reads: a buffered readline() could swallow the ready line while select() waits.
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                if not selector.select(timeout=max(deadline - time.monotonic(), 0)):
                    break
                chunk = os.read(fd, 4096)
                if not chunk:  # the process exited
                    process.wait(timeout=10)
                    process.stdout.close()
                    return f"exited with {process.returncode}: {self.log_tail(3)}"
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    match = READY.match(line.decode(errors="replace").strip())
                    if match:
                        self.port = int(match.group(1))
                        self._process = process
                        return None
        process.kill()
        process.wait(timeout=10)
        process.stdout.close()
        return "no ready line in time"
