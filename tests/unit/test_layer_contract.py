"""The layer order in pyproject.toml ([tool.importlinter]) holds for app/, and it really fails on an upward
import: the same layer list, applied to a throw-away package with one module of `core` importing `reports`,
is reported broken (and the same package without that module is kept)."""

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _contract() -> dict:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["id"] == "layers"]
    return contract


def _lint(cwd: Path, *, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(pythonpath or cwd)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def test_app_keeps_the_layer_contract() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_the_layer_order_is_the_documented_one() -> None:
    layers = _contract()["layers"]
    assert layers[-1] == "core" and layers[-2] == "auth" and layers[-3] == "interactions"
    assert layers[0] == "main | cli | migrations"
    order = [layer.split(" | ") for layer in layers]
    position = {name: index for index, names in enumerate(order) for name in names}  # 0 is the top
    assert position["reports"] < position["evaluations"] < position["scorecards"] < position["speech"]


def _synthetic_app(tmp_path: Path, *, upward: bool) -> Path:
    """A package `shadow` with one empty subpackage per layer of the real contract, checked by that contract."""
    contract = _contract()
    package = tmp_path / "shadow"
    for layer in contract["layers"]:
        for name in layer.split(" | "):
            (package / name).mkdir(parents=True)
            (package / name / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "core" / "settings.py").write_text("VALUE = 1\n")
    (package / "reports" / "views.py").write_text("from shadow.core.settings import VALUE\n")  # downward: fine
    if upward:
        (package / "core" / "shortcut.py").write_text("from shadow.reports import views\n")
    layers = ",\n".join(f'    "{layer}"' for layer in contract["layers"])
    (tmp_path / "pyproject.toml").write_text(f"""[tool.importlinter]
root_package = "shadow"

[[tool.importlinter.contracts]]
id = "layers"
name = "{contract['name']}"
type = "layers"
containers = ["shadow"]
exhaustive = true
layers = [
{layers}
]
""")
    return tmp_path


def test_an_upward_import_breaks_the_contract(tmp_path: Path) -> None:
    broken = _lint(_synthetic_app(tmp_path, upward=True))
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "BROKEN" in broken.stdout and "shadow.core.shortcut -> shadow.reports" in broken.stdout


def test_the_same_package_without_it_is_kept(tmp_path: Path) -> None:
    kept = _lint(_synthetic_app(tmp_path, upward=False))
    assert kept.returncode == 0, kept.stdout + kept.stderr
