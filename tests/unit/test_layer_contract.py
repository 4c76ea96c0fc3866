"""The layer order in pyproject.toml ([tool.importlinter]) holds for app/ with no exception, and it really
fails on an upward import: a copy of app/ with one of the upward imports issue #24 removed put back is
reported broken; the same layer list, applied to a throw-away package with one module of `core` importing
`reports`, is reported broken (and the same package without that module is kept)."""

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

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


def test_no_upward_import_is_ignored() -> None:
    contract = _contract()
    assert "ignore_imports" not in contract and "unmatched_ignore_imports_alerting" not in contract


def _copy_of_app(tmp_path: Path) -> Path:
    """app/ and the contract, copied: lint-imports reads the copy (first on PYTHONPATH), not the checkout."""
    shutil.copytree(ROOT / "app", tmp_path / "app", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


@pytest.mark.parametrize(("module", "upward"), [
    ("evaluations/service.py", "from app.connectors import webhooks"),  # webhooks go through PUBLISH_EVENT
    ("surveys/service.py", "from app.reviews.service import open_cases_for_responses"),  # SURVEY_ANSWERS_CHANGED
    ("interactions/content.py", "from app.nlp import service"),  # the detector moved down to app/privacy
])
def test_a_copy_of_app_with_an_upward_import_is_broken(tmp_path: Path, module: str, upward: str) -> None:
    copy = _copy_of_app(tmp_path)
    target = copy / "app" / module
    target.write_text(target.read_text() + f"\n{upward}  # noqa\n")
    broken = _lint(copy)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    importer = "app." + module.removesuffix(".py").replace("/", ".")
    assert "BROKEN" in broken.stdout and f"{importer} -> app." in broken.stdout, broken.stdout


def test_the_layer_order_is_the_documented_one() -> None:
    layers = _contract()["layers"]
    assert layers[-1] == "core" and layers[-2] == "auth" and layers[-3] == "privacy" and layers[-4] == "interactions"
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
