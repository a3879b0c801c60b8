"""Reading the streaming endpoints (Server-Sent Events, MJPEG) from a TestClient."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from fastapi.testclient import TestClient

from sereno.domain import commands


def read_events(client: TestClient, headers: dict[str, str], cameras: list[str],
                timeout_s: float = 5.0) -> list[dict[str, Any]]:
    """Open /api/v1/events, record a detection on each camera, return what the stream sent."""
    platform = client.app.state.platform  # type: ignore[attr-defined]
    received: list[dict[str, Any]] = []

    def publish() -> None:
        time.sleep(0.5)  # let the stream subscribe first
        for camera in cameras:
            platform.bus.handle(commands.RecordDetection(
                camera, None, "line", ("person",), (3,), 0.8, (0.1, 0.1, 0.2, 0.2),
                time.time()))

    threading.Thread(target=publish, daemon=True).start()
    deadline = time.monotonic() + timeout_s
    with client.stream("GET", "/api/v1/events", headers=headers) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: "):
                received.append(json.loads(line[6:]))
            if (len(received) >= len(cameras) - 1 and received) or time.monotonic() > deadline:
                break
    return received


def first_mjpeg_part(client: TestClient, url: str, headers: dict[str, str]) -> tuple[int, bytes]:
    """Status and the first JPEG of an MJPEG stream."""
    with client.stream("GET", url, headers=headers) as response:
        if response.status_code != 200:
            return response.status_code, response.read()
        buffer = b""
        for chunk in response.iter_bytes():
            buffer += chunk
            start, end = buffer.find(b"\xff\xd8"), buffer.find(b"\xff\xd9")
            if start >= 0 and end > start:
                return 200, buffer[start:end + 2]
    return 200, b""
