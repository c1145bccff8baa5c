"""The benchmark script runs end to end with tiny counts (it reports, it does not judge)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_bench_quick_writes_every_figure(shared_anatomy, tmp_path):
    out = tmp_path / "bench.json"
    res = subprocess.run([sys.executable, str(REPO / "scripts" / "bench.py"), "--quick", "--no-gallery",
                          "--no-gui", "--json", str(out)], capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    figures = json.loads(out.read_text())["figures"]
    for key in ("build_cold_s", "build_warm_s", "pack_load_process_s", "fields_cold_s",
                "fields_cached_load_s", "pack_and_fields_load_process_s", "lookup_point_p50_ms",
                "lookup_point_p99_ms", "lookup_area_2000_ms", "lookup_naive_ms",
                "lookup_speedup_naive_over_p50", "export_1920x1080_s", "build_peak_rss_mb"):
        assert "unit" in figures[key], key
