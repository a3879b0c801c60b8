"""Alert push benchmark: how long an alert event takes to reach a console's stream.

``.venv/bin/python bench/alert_push.py [--rate 500] [--seconds 10] [--consoles 3] [--json]``
on the embedded profile (SQLite in a temporary folder, the demo city seeded): a real uvicorn
server runs the API; ``--consoles`` clients hold ``GET /api/v1/alerts/stream`` open with an
operator's token; the alert events are published into the node's event stream at ``--rate``
per second, as the message bus does after each commit, each naming one stored alert of the
operator's agency. The latency of one message is from its publication to the moment a client
has read the whole SSE message (the wake-up, the alert read from the database, its JSON and
the HTTP write all included).

Target (ADR 0028): p99 < 300 ms at 500 alerts/s.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx
import uvicorn
from rich.console import Console

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from sereno.bootstrap import bootstrap  # noqa: E402
from sereno.config import Settings  # noqa: E402
from sereno.demo.seed import seed_demo_city  # noqa: E402
from sereno.domain import events  # noqa: E402
from sereno.domain.alerts import Alert, AlertSource  # noqa: E402
from sereno.entrypoints.api.app import create_app  # noqa: E402

AGENCY = "segura-ep"
TARGET_P99_MS = 300.0


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _alerts(platform: Any, count: int) -> list[str]:
    """``count`` stored alerts of the agency (what the events will name)."""
    ids = [str(uuid.uuid4()) for _ in range(count)]
    now = datetime.now(UTC)
    with platform.uow() as uow:
        for n, alert_id in enumerate(ids):
            uow.alerts.add(Alert.raise_new(
                alert_id=alert_id, agency_id=AGENCY, source=AlertSource.MANUAL,
                category="Security", severity="Severe", urgency="Immediate",
                certainty="Observed", event="Robo", headline=f"Robo en curso #{n}",
                description="banco de pruebas", at=now, by="operator.segura",
                camera_ids=["SEG-001"], latitude=-2.19, longitude=-79.88))
        uow.commit()
    return ids


def _reader(base: str, token: str, received: dict[str, float], ready: threading.Event,
            stop: threading.Event) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(timeout=None) as client, \
            client.stream("GET", f"{base}/api/v1/alerts/stream", headers=headers) as response:
        response.raise_for_status()
        alert_id = ""
        for line in response.iter_lines():
            if line.startswith("retry:"):
                ready.set()
            elif line.startswith("id: "):
                alert_id = line[4:].split(":")[0]
            elif line.startswith("data: "):
                received.setdefault(alert_id, time.monotonic())
            if stop.is_set():
                return


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run(rate: int, seconds: float, consoles: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        settings = Settings(data_dir=data, media={"root": data / "media",
                                                  "allowed_file_roots": [data / "sources"]},
                            video={"enabled": False})
        platform = bootstrap(settings)
        seed_demo_city(platform)
        total = int(rate * seconds)
        ids = _alerts(platform, total)
        port = _port()
        server = uvicorn.Server(uvicorn.Config(create_app(platform), host="127.0.0.1",
                                               port=port, log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        base = f"http://127.0.0.1:{port}"
        while not server.started:
            time.sleep(0.05)
        token = httpx.post(f"{base}/api/v1/auth/token", data={
            "username": "operator.segura", "password": "sereno-demo-2026"}).json()["access_token"]
        received: list[dict[str, float]] = [{} for _ in range(consoles)]
        stop = threading.Event()
        for inbox in received:
            ready = threading.Event()
            threading.Thread(target=_reader, args=(base, token, inbox, ready, stop),
                             daemon=True).start()
            assert ready.wait(10), "the stream did not open"
        sent: dict[str, float] = {}
        start = time.monotonic()
        for n, alert_id in enumerate(ids):  # paced: the n-th event at start + n / rate
            pause = start + n / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            sent[alert_id] = time.monotonic()
            platform.event_stream.publish(events.AlertChanged(
                alert_id, AGENCY, "updated", "open", 1, datetime.now(UTC)))
        published_s = time.monotonic() - start
        deadline = time.monotonic() + 10
        while (any(len(inbox) < total for inbox in received)
               and time.monotonic() < deadline):
            time.sleep(0.05)
        stop.set()
        server.should_exit = True
        latencies = [(inbox[i] - sent[i]) * 1000 for inbox in received for i in ids
                     if i in inbox]
        delivered = sum(len(inbox) for inbox in received)
        platform.close()
    return {"rate": rate, "seconds": seconds, "consoles": consoles,
            "published_per_s": round(total / published_s, 1),
            "delivered": delivered, "expected": total * consoles,
            "p50_ms": round(_percentile(latencies, 0.50), 1),
            "p99_ms": round(_percentile(latencies, 0.99), 1),
            "max_ms": round(max(latencies), 1), "target_p99_ms": TARGET_P99_MS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--consoles", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()
    result = run(options.rate, options.seconds, options.consoles)
    if options.json:
        print(json.dumps(result))
        return
    ok = result["p99_ms"] < TARGET_P99_MS and result["delivered"] == result["expected"]
    Console().print(
        f"alert push: {result['rate']} alerts/s for {result['seconds']} s to "
        f"{result['consoles']} consoles: delivered {result['delivered']}/{result['expected']}, "
        f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms (target < {TARGET_P99_MS:.0f}), "
        f"max {result['max_ms']} ms — {'[green]ok' if ok else '[red]over'}")


if __name__ == "__main__":
    main()
