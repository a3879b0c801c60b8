"""Dispatch benchmark: nearest units by ETA, and AVL position ingest, on the embedded profile.

``.venv/bin/python bench/dispatch.py [--units N] [--incidents M] [--updates U] [--json]``
(SQLite, WAL, a fresh database in a temporary folder; ADR 0032):

* recommend: for each of M open incidents, ``services.dispatch.recommend`` as the API calls it
  (read the incident, bring the per-process index up to date, search it, check the 5
  candidates against the database, write the audit record, commit) over N units scattered over
  Guayaquil (80 % available) — p50/p99 in ms; the search in the index alone beside it;
* the baseline in the same run: a plain in-memory brute-force nearest-neighbour (every unit's
  ETA computed, sorted) over the same units and incidents — what the index saves;
* ingest: U accepted position updates through ``services.units.report_fleet`` (an AVL gateway's
  batches of ``--batch`` units, one fix each, one transaction and one audit record per batch),
  updates/s; and the same with one fix per transaction (a terminal posting alone) for scale.

Targets (issue 6): recommendation p99 < 50 ms with 5,000 units and 1,000 open incidents;
≥ 5,000 position updates/s on the embedded profile.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import insert

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from sereno.adapters.db import tables  # noqa: E402
from sereno.bootstrap import Platform, bootstrap  # noqa: E402
from sereno.config import Settings  # noqa: E402
from sereno.domain.access import Principal, Role  # noqa: E402
from sereno.domain.units import GUAYAQUIL, UnitKind  # noqa: E402
from sereno.services import dispatch, units  # noqa: E402
from sereno.services.dispatch_recommender import brute_force  # noqa: E402

TARGET_P99_MS = 50.0
TARGET_UPDATES = 5_000
AGENCY = "policia-nacional"
KINDS = [UnitKind.PATROL_CAR] * 6 + [UnitKind.MOTORCYCLE] * 3 + [UnitKind.FOOT]


def _platform(folder: Path) -> Platform:
    settings = Settings(data_dir=folder, database_url=f"sqlite:///{folder / 'bench.db'}",
                        media={"root": folder / "media"})
    return bootstrap(settings)


def _point(rng: random.Random) -> tuple[float, float]:
    while True:  # uniform over the service area's bounding box, kept if inside
        lat, lon = rng.uniform(-2.30, -2.03), rng.uniform(-80.03, -79.855)
        if GUAYAQUIL.contains(lat, lon):
            return lat, lon


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _seed(platform: Platform, rng: random.Random, unit_count: int,
          incident_count: int) -> tuple[list[str], list[str]]:
    now = datetime.now(UTC) - timedelta(hours=2)
    unit_rows: list[dict[str, Any]] = []
    incident_rows: list[dict[str, Any]] = []
    for n in range(unit_count):
        lat, lon = _point(rng)
        status = "available" if rng.random() < 0.8 else rng.choice(
            ["assigned", "en_route", "on_scene", "out_of_service"])
        unit_rows.append({"id": f"PN-{n:05d}", "agency_id": AGENCY, "kind": rng.choice(KINDS),
                          "name": f"Unidad {n}", "status": status, "latitude": lat,
                          "longitude": lon, "position_at": now, "speed_kmh": None,
                          "heading_deg": None, "incident_id": None, "version": 1,
                          "updated_at": now})
    for n in range(incident_count):
        lat, lon = _point(rng)
        incident_rows.append({
            "id": str(uuid.uuid4()), "agency_id": AGENCY, "number": f"PN-B-{n:06d}",
            "type_code": "robo", "priority": 2, "status": "new", "title": "Robo",
            "description": "", "latitude": lat, "longitude": lon, "source": "form",
            "created_by": "bench", "created_at": now, "updated_at": now, "version": 1})
    with platform.engine.begin() as connection:
        connection.execute(insert(tables.agencies), [
            {"id": AGENCY, "name": "Policía Nacional", "kind": "police"}])
        connection.execute(insert(tables.units), unit_rows)
        connection.execute(insert(tables.incidents), incident_rows)
    return [r["id"] for r in unit_rows], [r["id"] for r in incident_rows]


def _ingest(platform: Platform, who: Principal, unit_ids: list[str], updates: int,
            batch: int, rng: random.Random, start: datetime) -> float:
    """Seconds to get ``updates`` fixes accepted in batches of ``batch`` units."""
    step = 0
    done = 0
    began = time.perf_counter()
    while done < updates:
        step += 1
        at = start + timedelta(seconds=step)
        size = min(batch, updates - done)
        chosen = rng.sample(unit_ids, size) if size < len(unit_ids) else unit_ids
        reports = [(unit_id, [units.Fix(*_point(rng), at)]) for unit_id in chosen]
        result = units.report_fleet(platform.uow(), who, reports, clock=platform.clock,
                                    index=platform.unit_index)
        done += result.accepted
    return time.perf_counter() - began


def measure(unit_count: int, incident_count: int, updates: int, batch: int,
            single: int, seed: int = 6) -> dict[str, Any]:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="sereno-bench-dispatch-") as temp:
        platform = _platform(Path(temp))
        unit_ids, incident_ids = _seed(platform, rng, unit_count, incident_count)
        dispatcher = Principal(user_id="bench", username="dispatcher.bench", agency_id=AGENCY,
                               roles=frozenset({Role.DISPATCHER}))
        terminal = Principal(user_id="avl", username="avl.gateway", agency_id=AGENCY,
                             roles=frozenset({Role.OPERATOR}))
        with platform.uow() as uow:
            places = {i: uow.dispatches.incident(i) for i in incident_ids}
        # the first call loads the index from the database: measured on its own
        began = time.perf_counter()
        dispatch.recommend(platform.uow(), dispatcher, incident_ids[0], clock=platform.clock,
                           index=platform.unit_index)
        load_ms = (time.perf_counter() - began) * 1000
        service_ms, index_ms, baseline_ms = [], [], []
        entries = platform.unit_index.all_units()
        for incident_id in incident_ids:
            place = places[incident_id]
            assert place is not None
            began = time.perf_counter()
            found = dispatch.recommend(platform.uow(), dispatcher, incident_id,
                                       clock=platform.clock, index=platform.unit_index)
            service_ms.append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            fast = platform.unit_index.nearest(place.latitude, place.longitude, limit=5,
                                               agencies={AGENCY})
            index_ms.append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            slow = brute_force(entries, place.latitude, place.longitude, limit=5,
                               agencies={AGENCY})
            baseline_ms.append((time.perf_counter() - began) * 1000)
            assert [c.unit_id for c in fast] == [c.unit_id for c in slow]
            assert [c.unit_id for c in found.units] == [c.unit_id for c in fast]
        start = datetime.now(UTC) - timedelta(hours=1)  # one second a step, in the past
        batch_s = _ingest(platform, terminal, unit_ids, updates, batch, rng, start)
        single_s = _ingest(platform, terminal, unit_ids, single, 1, rng,
                           start + timedelta(seconds=updates // batch + 10))
        platform.close()
    return {
        "units": unit_count, "incidents": incident_count,
        "recommend_p50_ms": round(statistics.median(service_ms), 3),
        "recommend_p99_ms": round(_percentile(service_ms, 0.99), 3),
        "index_p50_ms": round(statistics.median(index_ms), 4),
        "index_p99_ms": round(_percentile(index_ms, 0.99), 4),
        "baseline_p50_ms": round(statistics.median(baseline_ms), 3),
        "baseline_p99_ms": round(_percentile(baseline_ms, 0.99), 3),
        "index_load_ms": round(load_ms, 1),
        "position_updates": updates, "position_batch": batch,
        "position_updates_per_s": round(updates / batch_s),
        "position_updates_per_s_single": round(single / single_s) if single else None,
        "target_recommend_p99_ms": TARGET_P99_MS, "target_updates_per_s": TARGET_UPDATES,
        "meets_targets": _percentile(service_ms, 0.99) < TARGET_P99_MS
        and updates / batch_s >= TARGET_UPDATES,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=5_000)
    parser.add_argument("--incidents", type=int, default=1_000)
    parser.add_argument("--updates", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=500,
                        help="units per gateway batch (one fix each)")
    parser.add_argument("--single", type=int, default=2_000,
                        help="updates posted one per transaction (0: skip)")
    parser.add_argument("--json", action="store_true", help="add one JSON line at the end")
    args = parser.parse_args()
    result = measure(args.units, args.incidents, args.updates, args.batch, args.single)
    table = Table(title=f"Dispatch on the embedded profile ({result['units']:,} units, "
                        f"{result['incidents']:,} open incidents)")
    table.add_column("measure")
    table.add_column("p50 / rate", justify="right")
    table.add_column("p99", justify="right")
    table.add_column("target / baseline", justify="right")
    table.add_row("recommend (service: DB, index, audit)", f"{result['recommend_p50_ms']} ms",
                  f"{result['recommend_p99_ms']} ms", f"p99 < {TARGET_P99_MS:g} ms")
    table.add_row("  the grid index search alone", f"{result['index_p50_ms']} ms",
                  f"{result['index_p99_ms']} ms", "")
    table.add_row("  brute force in memory (baseline)", f"{result['baseline_p50_ms']} ms",
                  f"{result['baseline_p99_ms']} ms", "same units, same run")
    table.add_row(f"position updates/s (batches of {result['position_batch']})",
                  f"{result['position_updates_per_s']:,}", "", f"≥ {TARGET_UPDATES:,}")
    if result["position_updates_per_s_single"] is not None:
        table.add_row("position updates/s (one per transaction)",
                      f"{result['position_updates_per_s_single']:,}", "", "")
    table.add_row("index load from the database", f"{result['index_load_ms']} ms", "", "once")
    Console().print(table)
    if args.json:
        sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
