"""Audit-log benchmark: batched appends to the tamper-evident log beside plain SHA-256.

``.venv/bin/python bench/audit.py [--records N] [--verify-records M] [--json]`` on the embedded
profile (SQLite, WAL, a fresh database in a temporary folder):

* appends: N audit records written as the use-cases write them (batches of 1,000 per
  transaction), then sealed into the Merkle log (leaf hashing, leaf rows, frontier, a signed tree
  head) — records/s over the whole path, and the sealing alone;
* the limit beside it: plain ``hashlib.sha256`` over the same canonical record bytes, in the same
  process (what hashing costs with no database at all);
* verify: ``TransparencyLog.verify()`` (re-hash every record as stored, rebuild the tree, check
  every signed head) over M records (default 1,000,000: the ``verify_1m_s`` figure).

Target (issue 4): ≥ 20,000 appends/s.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import insert, select

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from sereno.adapters.db import tables  # noqa: E402
from sereno.bootstrap import Platform, bootstrap  # noqa: E402
from sereno.config import Settings  # noqa: E402
from sereno.governance.transparency import leaf_bytes  # noqa: E402

TARGET_APPENDS = 20_000
BATCH = 1_000


def _platform(folder: Path) -> Platform:
    settings = Settings(data_dir=folder, database_url=f"sqlite:///{folder / 'bench.db'}",
                        media={"root": folder / "media"})
    return bootstrap(settings)


def _records(start: int, count: int) -> list[dict[str, Any]]:
    at = datetime.now(UTC)
    return [{"at": at, "action": "footage.live", "outcome": "allowed",
             "actor_user_id": f"user-{n % 40}", "actor_username": f"operator{n % 40}.segura",
             "actor_agency_id": "segura-ep", "actor_roles": "operator", "channel": "api",
             "address": "10.0.0.7", "object_type": "camera", "object_id": f"SEG-{n % 14:03d}",
             "object_agency_id": "segura-ep", "purpose": "monitoring", "reason": None,
             "detail": {"policy_version": 1, "policies": ["live-own-agency"]}}
            for n in range(start, start + count)]


def _write(platform: Platform, count: int) -> float:
    """Insert ``count`` audit records in transactions of ``BATCH``; seconds taken."""
    began = time.perf_counter()
    for start in range(0, count, BATCH):
        with platform.engine.begin() as connection:
            connection.execute(insert(tables.audit_records),
                               _records(start, min(BATCH, count - start)))
    return time.perf_counter() - began


def measure(records: int, verify_records: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="sereno-bench-audit-") as temp:
        platform = _platform(Path(temp))
        write_s = _write(platform, records)
        began = time.perf_counter()
        platform.audit_log.sign_head()
        seal_s = time.perf_counter() - began
        with platform.engine.connect() as connection:
            rows = connection.execute(
                select(tables.audit_records).order_by(tables.audit_records.c.id)).mappings().all()
        encoded = [leaf_bytes(row) for row in rows]
        began = time.perf_counter()
        for data in encoded:
            hashlib.sha256(b"\x00" + data).digest()
        sha_s = time.perf_counter() - began
        began = time.perf_counter()
        encoded = [leaf_bytes(row) for row in rows]
        encode_s = time.perf_counter() - began
        platform.close()

        platform = _platform(Path(temp) / "verify")
        _write(platform, verify_records)
        platform.audit_log.sign_head()
        began = time.perf_counter()
        report = platform.audit_log.verify()
        verify_s = time.perf_counter() - began
        platform.close()
    total = len(rows)
    return {
        "records": total, "write_s": round(write_s, 3), "seal_s": round(seal_s, 3),
        "appends_per_s": round(total / (write_s + seal_s)),
        "seal_records_per_s": round(total / seal_s),
        "sha256_records_per_s": round(total / sha_s),
        "encode_records_per_s": round(total / encode_s),
        "verify_records": verify_records, "verify_s": round(verify_s, 2),
        "verify_1m_s": round(verify_s * 1_000_000 / verify_records, 2),
        "verify_ok": report.ok, "target_appends_per_s": TARGET_APPENDS,
        "meets_target": total / (write_s + seal_s) >= TARGET_APPENDS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--verify-records", type=int, default=1_000_000)
    parser.add_argument("--json", action="store_true", help="add one JSON line at the end")
    args = parser.parse_args()
    result = measure(args.records, args.verify_records)
    table = Table(title=f"Audit log on the embedded profile ({result['records']:,} records)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("limit / target", justify="right")
    table.add_row("appends/s (write + seal + sign)", f"{result['appends_per_s']:,}",
                  f"target ≥ {TARGET_APPENDS:,}")
    table.add_row("sealing alone, records/s", f"{result['seal_records_per_s']:,}",
                  f"plain SHA-256: {result['sha256_records_per_s']:,}/s")
    table.add_row("canonical encoding, records/s", f"{result['encode_records_per_s']:,}", "")
    table.add_row(f"verify {result['verify_records']:,} records", f"{result['verify_s']} s",
                  f"≈ {result['verify_1m_s']} s per million")
    Console().print(table)
    if args.json:
        sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
