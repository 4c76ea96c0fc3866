"""The issue's name for the speech benchmark: runs bench/speech.py (same arguments)."""

import runpy
from pathlib import Path

if __name__ == "__main__":
    runpy.run_path(str(Path(__file__).with_name("speech.py")), run_name="__main__")
