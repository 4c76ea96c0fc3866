"""Screenshots of the main pages for the README, taken in Debian's Chromium against a running Earshot
with the demo loaded:  .venv/bin/python scripts/screenshots.py http://127.0.0.1:8000 docs/screenshots"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]
SHOTS = [  # user, path, file
    ("sam", "/social", "social-queue.png"),
    ("eva", "/evaluations/21", "evaluation.png"),
    ("exec", "/reviews/meetings/1?pos=0", "meeting.png"),
    ("eva", "/interactions/1", "call.png"),
    ("eva", "/search?q=broadband", "search.png"),
]


def main(base: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for user, path, name in SHOTS:
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            page.goto(f"{base}/login")
            page.fill("input[name=username]", user)
            page.fill("input[name=password]", "earshot-demo")
            page.click("button[type=submit]")
            page.wait_for_load_state()
            response = page.goto(f"{base}{path}")
            page.wait_for_load_state()
            page.screenshot(path=str(out / name))
            print(f"{name}: {path} as {user} -> {response.status if response else '?'}")
            page.close()
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
