"""Finds the feature packages under `app/` so routers, CLI commands, models and demo loaders plug in
without a central list that every feature has to edit."""

import importlib
import importlib.util
import pkgutil
from collections.abc import Iterator
from types import ModuleType

import app

NOT_FEATURES = {"core", "migrations"}


def feature_names() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.iter_modules(app.__path__)
        if info.ispkg and info.name not in NOT_FEATURES
    )


def iter_feature_modules(module: str) -> Iterator[ModuleType]:
    """Import `app.<feature>.<module>` for every feature that has it."""
    for name in feature_names():
        spec_name = f"app.{name}.{module}"
        if importlib.util.find_spec(spec_name) is None:
            continue
        yield importlib.import_module(spec_name)


def import_all_models() -> None:
    """Register every table on SQLModel.metadata (Alembic and tests need the whole schema)."""
    importlib.import_module("app.core.models")
    for _ in iter_feature_modules("models"):
        pass
