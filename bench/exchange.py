"""Exchange benchmark: an alert from the bus to the console and to the partner's node, beside
the raw NATS and raw HTTP loopback round trips measured in the same run.

``.venv/bin/python bench/exchange.py [--rates 50,500] [--seconds S] [--json]`` starts two real
``sereno serve`` processes on loopback — Segura EP's node and the ministry's (the police) —
each with its own PostgreSQL database seeded as the demo city, pinned to each other, with
the demo's agreement sharing Segura EP's security alerts with the police (an agency
hosted on a registered peer node is reached through federation). For each offered rate, client
threads raise alerts through Segura EP's API (``POST /api/v1/alerts``: the command goes through
the message bus) for S seconds, while

* an operator's console (an SSE client of ``/api/v1/alerts/stream``) receives them: *console
  push* = receipt time − the alert's ``raised_at`` (the moment the bus handled the command);
* the federation sender carries them to the ministry's node: *peer delivery* = the receiver's
  inbox ``received_at`` − ``raised_at``.

Beside them, in the same run: *raw NATS* (publish → JetStream consumer handler on the local
server, the production bus transport) and *raw HTTP* (an HTTP/1.1 keep-alive request to a bare
``http.server`` on loopback answering 204). ``lost`` counts raised alerts that never reached the
console or the peer; ``duplicated`` counts any that arrived twice. All clocks are this machine's.

Targets (issue 5): console push p99 < 300 ms, peer delivery p99 < 500 ms at 500 alerts/s.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx
import psycopg
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, select

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from sereno.adapters.bus.jetstream import JetStreamTransport  # noqa: E402
from sereno.adapters.bus.roundtrip import measure  # noqa: E402
from sereno.adapters.db.tables import alerts, exchange_inbox  # noqa: E402
from sereno.bootstrap import Platform, bootstrap  # noqa: E402
from sereno.config import Settings  # noqa: E402
from sereno.demo.city import DEMO_PASSWORD  # noqa: E402
from sereno.domain import commands  # noqa: E402
from sereno.services import accounts, governance  # noqa: E402

SERENO = str(Path(sys.executable).with_name("sereno"))
PG_ADMIN = os.environ.get("SERENO_BENCH_PG_DSN", "host=127.0.0.1 port=5432 user=postgres "
                          "dbname=postgres")
PG_URL = os.environ.get("SERENO_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
NATS_URL = os.environ.get("SERENO_BENCH_NATS_URL", "nats://127.0.0.1:4222")
TOTP_KEY = "c2VyZW5vLWJlbmNoLXRvdHAta2V5LTMyLWJ5dGVzISE="  # 32 bytes, the bench's own
TARGET_CONSOLE_P99_MS = 300.0
TARGET_PEER_P99_MS = 500.0
CLIENTS = 8


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _pct(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))]


class Node:
    """One installation: a fresh PostgreSQL database, a data folder, a ``sereno serve``."""

    def __init__(self, name: str, agency: str, folder: Path) -> None:
        self.name, self.agency, self.folder = name, agency, folder
        self.port = _free_port()
        self.database = f"sereno_bench_{name}_{uuid.uuid4().hex[:8]}"
        self.url = f"{PG_URL}/{self.database}"
        self.process: subprocess.Popen[bytes] | None = None
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{self.database}"')

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {**os.environ, "SERENO_DATA_DIR": str(self.folder),
                "SERENO_DATABASE_URL": self.url, "SERENO_NODE_NAME": self.name,
                "SERENO_NODE_AGENCY_ID": self.agency, "SERENO_AUTH__TOTP_KEY": TOTP_KEY,
                # Cheap password hashing: seeding 14 demo accounts, logins are not measured.
                "SERENO_AUTH__ARGON2_TIME_COST": "1", "SERENO_AUTH__ARGON2_MEMORY_KIB": "1024",
                "SERENO_VIDEO__ENABLED": "false",
                "SERENO_WORKERS__STREAM_HEALTH_IN_SERVER": "false",
                "SERENO_RETENTION__IN_SERVER": "false", "SERENO_ANOMALIES__IN_SERVER": "false",
                "SERENO_EGRESS__ALLOW_PLAIN_HTTP_LOOPBACK": "true"}

    def platform(self) -> Platform:
        return bootstrap(Settings(data_dir=self.folder, database_url=self.url,
                                  node_name=self.name, node_agency_id=self.agency,
                                  auth={"totp_key": TOTP_KEY},
                                  egress={"allow_plain_http_loopback": True}))

    def seed(self) -> None:
        subprocess.run([SERENO, "demo", "seed"], env=self.env(), cwd=self.folder, check=True,
                       stdout=subprocess.DEVNULL)

    def start(self) -> None:
        log = (self.folder / "server.log").open("wb")
        self.process = subprocess.Popen([SERENO, "serve", "--port", str(self.port)],
                                        env=self.env(), cwd=self.folder, stdout=log,
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError((self.folder / "server.log").read_text()[-3000:])

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')


def _as(platform: Platform, username: str) -> Any:
    with platform.uow() as uow:
        user = uow.users.by_username(username)
    assert user is not None
    return accounts.principal_for(user, channel="cli", address="bench")


def _pin(platform: Platform, other: Node, other_key: str, admin: str, auditor: str) -> None:
    """What each side's admin and auditor do once: pin the peer's key, approve its address."""
    governance.register_peer(platform.uow(), _as(platform, admin), other.name, other.agency,
                             other_key, other.base, platform.clock,
                             platform.settings.node_agency_id)
    destination = platform.bus.handle(commands.RegisterEgressDestination(
        _as(platform, admin), f"Nodo {other.name}", "federation_peer", other.base))
    platform.bus.handle(commands.ApproveEgressDestination(_as(platform, auditor),
                                                          destination.id))


def _connect(municipal: Node, ministry: Node) -> None:
    a, b = municipal.platform(), ministry.platform()
    try:
        _pin(a, ministry, b.audit_log.key.public_key_b64, "admin.segura", "auditor.segura")
        _pin(b, municipal, a.audit_log.key.public_key_b64, "admin.policia", "auditor.policia")
    finally:
        a.close()
        b.close()


def _token(node: Node, username: str) -> str:
    response = httpx.post(f"{node.base}/api/v1/auth/token",
                          data={"username": username, "password": DEMO_PASSWORD}, timeout=30)
    response.raise_for_status()
    return str(response.json()["access_token"])


class Console_:  # noqa: N801 - not rich's Console
    """An operator's console: reads the SSE queue and notes when each new alert arrived."""

    def __init__(self, node: Node, token: str) -> None:
        self.received: dict[str, list[float]] = {}
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(node, token), daemon=True)
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the alert stream did not open")

    def _run(self, node: Node, token: str) -> None:
        try:
            self._read(node, token)
        except httpx.HTTPError:  # the node stopping at the end of the run closes the stream
            return

    def _read(self, node: Node, token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(timeout=None) as client, client.stream(
                "GET", f"{node.base}/api/v1/alerts/stream", headers=headers) as response:
            event = ""
            for line in response.iter_lines():
                if line.startswith("retry:"):
                    self._ready.set()
                elif line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event == "AlertRaised":
                    body = json.loads(line[5:])
                    raised = datetime.fromisoformat(body["raised_at"]).timestamp()
                    self.received.setdefault(body["id"], []).append(time.time() - raised)
                if self._stop.is_set():
                    return

    def stop(self) -> None:
        self._stop.set()


def _raise_alerts(node: Node, token: str, rate: float, seconds: float) -> tuple[list[str], float]:
    """Offer ``rate`` alerts/s for ``seconds`` from CLIENTS threads; returns the ids and the
    achieved rate."""
    total = int(rate * seconds)
    raised: list[str] = []
    lock = threading.Lock()
    start = time.monotonic()

    def client(worker: int) -> None:
        with httpx.Client(base_url=node.base, timeout=60,
                          headers={"Authorization": f"Bearer {token}"}) as http:
            for n in range(worker, total, CLIENTS):
                delay = start + n / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                response = http.post("/api/v1/alerts", json={
                    "category": "Security", "severity": "Severe", "event": "Robo",
                    "headline": f"Robo en curso n.º {n}", "latitude": -2.19,
                    "longitude": -79.88})
                response.raise_for_status()
                with lock:
                    raised.append(response.json()["id"])

    threads = [threading.Thread(target=client, args=(w,)) for w in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return raised, len(raised) / (time.monotonic() - start)


def _peer_latencies(municipal: Node, ministry: Node, raised: list[str],
                    timeout: float) -> tuple[list[float], int, int]:
    """Seconds from raise to acceptance on the ministry's node; (latencies, lost, duplicated)."""
    wanted = set(raised)
    engine_a, engine_b = create_engine(municipal.url), create_engine(ministry.url)
    try:
        deadline = time.monotonic() + timeout
        while True:
            with engine_b.connect() as connection:
                copies = list(connection.execute(select(alerts.c.origin_alert_id).where(
                    alerts.c.origin_alert_id.in_(raised))))
            if len({c.origin_alert_id for c in copies}) >= len(wanted) or \
                    time.monotonic() > deadline:
                break
            time.sleep(0.5)
        with engine_a.connect() as connection:
            raised_at = {r.id: r.raised_at for r in connection.execute(
                select(alerts.c.id, alerts.c.raised_at).where(alerts.c.id.in_(raised)))}
        with engine_b.connect() as connection:
            inbox = {r.envelope_id: r.received_at for r in connection.execute(
                select(exchange_inbox.c.envelope_id, exchange_inbox.c.received_at))}
            copies_at = list(connection.execute(
                select(alerts.c.origin_alert_id, alerts.c.raised_at).where(
                    alerts.c.origin_alert_id.in_(raised))))
        with engine_a.connect() as connection:
            from sereno.adapters.db.tables import exchange_outbox

            envelopes = {r.id: r.payload["alert"]["id"] for r in connection.execute(
                select(exchange_outbox.c.id, exchange_outbox.c.payload).where(
                    exchange_outbox.c.destination == ministry.name))}
    finally:
        engine_a.dispose()
        engine_b.dispose()
    latencies = [(inbox[e] - raised_at[a]).total_seconds()
                 for e, a in envelopes.items() if e in inbox and a in raised_at]
    counts = Counter(c.origin_alert_id for c in copies_at)
    lost = len(wanted - set(counts))
    duplicated = sum(n - 1 for n in counts.values() if n > 1)
    return latencies, lost, duplicated


def _raw_nats(n: int) -> list[float]:
    tag = uuid.uuid4().hex[:8]
    transport = JetStreamTransport(NATS_URL, f"BENCH_{tag}", (f"b{tag}.>",))
    try:
        return measure(transport, n, subject=f"b{tag}.roundtrip")
    finally:
        import asyncio

        import nats

        transport.close()

        async def drop() -> None:
            connection = await nats.connect(NATS_URL)
            try:
                await connection.jetstream().delete_stream(f"BENCH_{tag}")
            finally:
                await connection.close()

        asyncio.run(drop())


class _NoContent(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        return


def _raw_http(n: int) -> list[float]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NoContent)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        with httpx.Client() as client:
            client.get(url)
            times = []
            for _ in range(n):
                start = time.perf_counter()
                client.get(url)
                times.append((time.perf_counter() - start) * 1000)
        return times
    finally:
        server.shutdown()


def run(rates: list[float], seconds: float) -> dict[str, Any]:
    """Both nodes up, each rate in turn, the raw round trips; the figures."""
    folder = Path(tempfile.mkdtemp(prefix="sereno-bench-exchange-"))
    municipal = Node("municipio", "segura-ep", folder / "municipio")
    ministry = Node("ministerio", "policia-nacional", folder / "ministerio")
    result: dict[str, Any] = {"rates": {}}
    try:
        for node in (municipal, ministry):
            node.folder.mkdir(parents=True)
            node.seed()
        _connect(municipal, ministry)
        municipal.start()
        ministry.start()
        token = _token(municipal, "operator.segura")
        lost = duplicated = 0
        for rate in rates:
            console = Console_(municipal, _token(municipal, "operator.segura"))
            raised, achieved = _raise_alerts(municipal, token, rate, seconds)
            peer, peer_lost, peer_duplicated = _peer_latencies(municipal, ministry, raised,
                                                               timeout=60 + seconds)
            deadline = time.monotonic() + 10
            while len(set(raised) & set(console.received)) < len(raised) and \
                    time.monotonic() < deadline:
                time.sleep(0.2)
            console.stop()
            pushes = [v[0] * 1000 for k, v in console.received.items() if k in set(raised)]
            console_lost = len(set(raised) - set(console.received))
            console_duplicated = sum(len(v) - 1 for v in console.received.values())
            lost += console_lost + peer_lost
            duplicated += console_duplicated + peer_duplicated
            result["rates"][str(int(rate))] = {
                "offered_per_s": rate, "achieved_per_s": round(achieved, 1),
                "alerts": len(raised),
                "console_push_p50_ms": _round(_pct(pushes, 0.5)),
                "console_push_p99_ms": _round(_pct(pushes, 0.99)),
                "peer_delivery_p50_ms": _round(_pct([x * 1000 for x in peer], 0.5)),
                "peer_delivery_p99_ms": _round(_pct([x * 1000 for x in peer], 0.99)),
                "console_lost": console_lost, "peer_lost": peer_lost,
                "duplicated": console_duplicated + peer_duplicated}
        nats_times = _raw_nats(2000)
        http_times = _raw_http(2000)
        top = result["rates"][str(int(max(rates)))]
        result.update(
            console_push_p99_ms=top["console_push_p99_ms"],
            peer_delivery_p99_ms=top["peer_delivery_p99_ms"],
            nats_roundtrip_p50_ms=_round(_pct(nats_times, 0.5)),
            nats_roundtrip_p99_ms=_round(_pct(nats_times, 0.99)),
            http_roundtrip_p50_ms=_round(_pct(http_times, 0.5)),
            http_roundtrip_p99_ms=_round(_pct(http_times, 0.99)),
            lost=lost, duplicated=duplicated, seconds_per_rate=seconds,
            cpus=os.cpu_count())
        return result
    finally:
        for node in (municipal, ministry):
            node.close()
        shutil.rmtree(folder, ignore_errors=True)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", default="50,500", help="offered alerts/s, comma-separated")
    parser.add_argument("--seconds", type=float, default=6.0, help="seconds per rate")
    parser.add_argument("--json", action="store_true", help="add one JSON line at the end")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",") if r.strip()]
    result = run(rates, args.seconds)
    table = Table(title=f"Alert exchange, two nodes on loopback ({result['cpus']} CPUs, "
                        f"{args.seconds:g} s per rate)")
    for column in ("measure", "offered/s", "achieved/s", "p50 ms", "p99 ms", "target p99",
                   "lost", "dup"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    for rate, row in result["rates"].items():
        table.add_row(f"console push @ {rate}/s", rate, str(row["achieved_per_s"]),
                      str(row["console_push_p50_ms"]), str(row["console_push_p99_ms"]),
                      f"< {TARGET_CONSOLE_P99_MS:g}", str(row["console_lost"]),
                      str(row["duplicated"]))
        table.add_row(f"peer delivery @ {rate}/s", rate, str(row["achieved_per_s"]),
                      str(row["peer_delivery_p50_ms"]), str(row["peer_delivery_p99_ms"]),
                      f"< {TARGET_PEER_P99_MS:g}", str(row["peer_lost"]), "")
    table.add_row("raw NATS JetStream round trip", "", "", str(result["nats_roundtrip_p50_ms"]),
                  str(result["nats_roundtrip_p99_ms"]), "limit", "", "")
    table.add_row("raw HTTP loopback round trip", "", "", str(result["http_roundtrip_p50_ms"]),
                  str(result["http_roundtrip_p99_ms"]), "limit", "", "")
    Console().print(table)
    if args.json:
        sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
