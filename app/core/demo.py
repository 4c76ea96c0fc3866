"""Loads the demo data set: every feature with a `demo.py` (DEMO_ORDER, load_demo) adds its part."""

from collections.abc import Callable

from app.core.features import iter_feature_modules
from app.core.hooks import load_hooks
from app.core.jobs import build_runtime
from app.core.settings import Settings


def load_demo(settings: Settings, *, log: Callable[[str], None] = print) -> None:
    load_hooks()  # the loaders import surveys (review cases), social posts (care clocks), ...
    runtime = build_runtime(settings)
    modules = sorted(iter_feature_modules("demo"), key=lambda m: (m.DEMO_ORDER, m.__name__))
    for module in modules:
        log(f"demo: {module.__name__.split('.')[1]} ...")
        module.load_demo(runtime=runtime, log=log)
    runtime.engine.dispose()
