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


@pytest.mark.slow
def test_only_cpu_table_prints_each_request_type_per_repeat_and_writes_no_report(tmp_path):
    out = tmp_path / "load-results.md"
    run = subprocess.run([sys.executable, "bench/load.py", "--backend", "sqlite", "--only-cpu-table", "--cpu-repeats",
                          "2", "--profile-per-type", "3", "--conversations", "60", "--evaluators", "4",
                          "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    rows = {line.split("|")[1].strip(): [cell.strip() for cell in line.split("|")[2:-1]]
            for line in run.stdout.splitlines() if line.startswith("| ") and "request type" not in line}
    for label in ("/api/me", "home (coach)", "home (executive)", "search page", "evaluate: submit",
                  "chat import (12 messages)"):
        runs = rows[label]
        assert len(runs) == 3, runs  # run 1, run 2, min
        assert float(runs[2]) == min(float(runs[0]), float(runs[1]))
    assert float(rows["chat import (12 messages)"][2]) > 0  # the server's CPU was read, not a table of zeros
    assert not out.exists()  # no open loop was run, so there is no report to write
    assert "requests/s for" not in run.stdout


@pytest.mark.slow
def test_scale_out_saturates_each_process_count_on_one_data_set_and_loses_nothing(tmp_path):
    out = tmp_path / "scale-out.md"
    run = subprocess.run([sys.executable, "bench/load.py", "--backend", "sqlite", "--scale-out", "1,2",
                          "--saturation-seconds", "1", "--saturation-warm-up-seconds", "1", "--saturation-clients", "8",
                          "--conversations", "60", "--evaluators", "4", "--drain-seconds", "30", "--out", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    report = out.read_text()
    assert run.stderr.count("seeded in") == 1  # one data set for every step
    rows = [line.split("|")[1:-1] for line in report.splitlines() if line.startswith("| ") and "answers/s" not in line]
    assert [row[0].strip() for row in rows] == ["1", "2"], report
    for row in rows:
        assert float(row[2]) > 0 and row[6].strip() == "0" and row[14].strip() == "0", row  # answers, errors, lost
        assert float(row[9]) > 0  # the web processes' CPU was read
    assert report.count("**lost = 0**") == 2 and "messages imported 0" not in report
