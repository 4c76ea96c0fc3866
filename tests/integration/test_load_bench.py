"""bench/load.py keeps working: a few seconds of mixed load on SQLite (one server, one worker, the open-loop
generator, each its own process) ends with zero errors and nothing lost."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_load_bench_smoke_on_sqlite(tmp_path):
    out = tmp_path / "load-results.md"
    run = subprocess.run([sys.executable, "bench/load.py", "--backend", "sqlite", "--seconds", "4", "--rate", "10",
                          "--drain-seconds", "30", "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                         timeout=180)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    report = out.read_text()
    assert "**errors: 0**" in report and "**lost = 0**" in report, report
    # every traffic class ran, and the writes were counted (not an empty run that trivially lost nothing)
    for kind in ("browse", "search", "evaluate", "ingest", "healthz"):
        assert f"| {kind} |" in report
    assert "messages imported 0" not in report
