"""The benchmarks still run: ``bench/video.py --quick --json --cameras 1`` and the audit-log
and watermark benchmarks on small inputs, each as a real process whose last stdout line is one
JSON object with positive headline numbers.

The only tests that run the benchmarks (the full runs are ``make bench``).
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
KEYS = (
    "cameras_per_core_decode_limit", "cameras_per_core_ingest_motion",
    "cameras_per_core_pipeline", "detector_raw_fps", "detector_pipeline_fps",
    "frame_to_event_p50_ms", "frame_to_event_p99_ms", "rss_mb_per_camera",
    "recording_cpu_s_per_camera_s", "remux_limit_cpu_s_per_camera_s",
)


@pytest.mark.skipif(not VTEST.exists(), reason="Debian opencv-doc (vtest.avi) not installed")
@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="the ffmpeg CLI is not installed")
def test_quick_benchmark_reports_positive_numbers() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "video.py"), "--quick", "--json", "--cameras", "1"],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.strip().splitlines()
    assert lines, result.stderr[-2000:]
    report = json.loads(lines[-1])
    for key in KEYS:
        value = report.get(key)
        assert isinstance(value, int | float) and math.isfinite(value) and value > 0, (key, value)
    machine = report["machine"]
    assert machine["cores"] >= 1 and machine["onnxruntime"] and machine["pyav"]
    assert report["params"]["cameras"] == 1 and report["params"]["quick"] is True
    assert "Sereno video benchmark" in result.stdout  # the human table comes first


def _last_json(script: str, *args: str) -> dict[str, object]:
    result = subprocess.run([sys.executable, str(REPO / "bench" / script), *args, "--json"],
                            cwd=REPO, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    report: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


def test_audit_benchmark_reports_its_figures() -> None:
    report = _last_json("audit.py", "--records", "2000", "--verify-records", "2000")
    for key in ("appends_per_s", "sha256_records_per_s", "verify_1m_s"):
        value = report[key]
        assert isinstance(value, int | float) and math.isfinite(value) and value > 0, (key, value)
    assert report["verify_ok"] is True


def test_watermark_benchmark_reports_its_figures() -> None:
    report = _last_json("watermark.py", "--images", "4", "--random", "20")
    rates = report["identification_rate"]
    assert isinstance(rates, dict) and rates and all(0 <= r <= 1 for r in rates.values())
    assert report["false_matches"] == 0
    for key in ("psnr_db_min", "embed_ms_720p", "detect_ms_720p"):
        value = report[key]
        assert isinstance(value, int | float) and math.isfinite(value) and value > 0, (key, value)


def test_exchange_benchmark_reports_its_figures() -> None:
    report = _last_json("exchange.py", "--rates", "20", "--seconds", "1")
    for key in ("console_push_p99_ms", "peer_delivery_p99_ms", "nats_roundtrip_p99_ms",
                "http_roundtrip_p99_ms"):
        value = report[key]
        assert isinstance(value, int | float) and math.isfinite(value) and value > 0, (key, value)
    assert report["lost"] == 0 and report["duplicated"] == 0


def test_dispatch_benchmark_reports_its_figures() -> None:
    report = _last_json("dispatch.py", "--units", "300", "--incidents", "20", "--updates",
                        "600", "--batch", "100", "--single", "20")
    for key in ("recommend_p50_ms", "recommend_p99_ms", "baseline_p99_ms",
                "position_updates_per_s", "index_p99_ms"):
        value = report[key]
        assert isinstance(value, int | float) and math.isfinite(value) and value > 0, (key, value)
    assert report["units"] == 300 and report["incidents"] == 20
