"""Server time of the main pages with the demo data loaded, against /healthz measured in the same run.

    EARSHOT_DATA_DIR=data .venv/bin/python bench/pages.py      (after `make demo`)

Requests go through the ASGI app in-process (no network), five times each; the median is reported.
"""

import statistics
import sys
import time

from fastapi.testclient import TestClient

from app.core.settings import Settings
from app.main import create_app

PAGES = {
    "eva": ["/", "/search?q=broadband", "/customers", "/interactions/1", "/evaluations", "/evaluations/queue",
            "/scores", "/calibrations", "/analytics", "/jobs"],
    "exec": ["/", "/surveys", "/reviews", "/reviews/meetings/1?pos=0", "/social", "/social/dashboard"],
    "colin": ["/", "/coaching", "/scores?group_by=team"],
    "ada": ["/", "/evaluations", "/coaching"],
    "admin": ["/admin/users", "/admin/audit", "/evaluations/sampling", "/imports", "/admin/webhooks",
              "/calibrations", "/calibrations/bias", "/calibrations/agreement"],
}


def timed(client: TestClient, path: str, runs: int = 5) -> tuple[float, int]:
    samples, status = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        status = client.get(path).status_code
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), status


def main() -> int:
    app = create_app(Settings())
    worst = 0.0
    with TestClient(app) as client:
        baseline, _ = timed(client, "/healthz", runs=20)
        print(f"baseline /healthz: {baseline:.1f} ms")
        print(f"{'user':<6} {'page':<32} {'status':>6} {'median ms':>10} {'x baseline':>10}")
        for user, paths in PAGES.items():
            client.cookies.clear()
            signed_in = client.post("/api/auth/login", json={"username": user, "password": "earshot-demo"})
            if signed_in.status_code != 200:
                raise SystemExit(f"could not sign in as {user} ({signed_in.status_code}): load the demo into "
                                 "EARSHOT_DATA_DIR first (`make demo`), or the pages timed would be error pages")
            for path in paths:
                ms, status = timed(client, path)
                worst = max(worst, ms)
                print(f"{user:<6} {path:<32} {status:>6} {ms:>10.1f} {ms / baseline:>10.1f}")
    print(f"slowest page: {worst:.1f} ms (target: under 300 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
