"""A server process keeps what it loaded at start-up out of the garbage collector's full collections (each
walked ~320,000 objects: 80-160 ms of CPU holding the GIL under load), once per process."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = """
import gc, json, sys
from fastapi.testclient import TestClient
from app.core.settings import Settings
from app.core.migrate import upgrade
from app.main import create_app
url = "sqlite:///" + sys.argv[1] + "/earshot.db"
upgrade(url)
before = gc.get_freeze_count()
settings = Settings(_env_file=None, data_dir=sys.argv[1], database_url=url, queue_url="sqlite:///" + sys.argv[1] + "/q.db")
with TestClient(create_app(settings)) as client:
    assert client.get("/healthz").status_code == 200
    first = gc.get_freeze_count()
with TestClient(create_app(settings)) as client:
    second = gc.get_freeze_count()
print(json.dumps({"before": before, "first": first, "second": second}))
"""


def test_the_start_up_heap_is_frozen_once_per_process(tmp_path):
    run = subprocess.run([sys.executable, "-c", PROGRAM, str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    counts = json.loads(run.stdout.strip().splitlines()[-1])
    assert counts["before"] == 0
    assert counts["first"] > 100_000  # the application's own objects, not a token freeze
    assert counts["second"] <= counts["first"]  # a second app in the same process freezes nothing more
