"""What every `maillage` sub-command shares: settings with every module's section, a bound database, a
runtime. Light at import (the heavy parts load when a command runs), so `maillage --help` starts fast.

The composition root (hub.cli) puts the modules in `args.modules`; commands of a module use these helpers.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any

from hub.modules import Module
from hub.settings import Settings

if TYPE_CHECKING:
    from hub.runtime import Runtime

Work = Callable[["Runtime"], Coroutine[Any, Any, int]]


def settings_from_env(modules: Sequence[Module]) -> Settings:
    return Settings.from_env(sections=[module.settings for module in modules if module.settings is not None])


def modules_of(args: argparse.Namespace) -> Sequence[Module]:
    return getattr(args, "modules", ())


async def with_database(settings: Settings, modules: Sequence[Module], work: Work) -> int:
    """Bind the engine, run the work with a runtime of every module, release the engine."""
    from hub import db  # heavy (ORM, drivers): loaded only by the commands that touch the database
    from hub.runtime import Runtime

    engine = db.make_engine(settings)
    db.bind_engine(engine)
    await db.start(engine)
    try:
        return await work(Runtime(settings, modules))
    finally:
        await db.stop(engine)


def run(args: argparse.Namespace, work: Work) -> int:
    """Run an async command body with the settings from the environment."""
    modules = modules_of(args)
    return asyncio.run(with_database(settings_from_env(modules), modules, work))


def progress_bar(phase: str, done: int, total: int) -> None:
    """A one-line bar on stderr, only on a terminal and for files worth waiting for."""
    if total < 2000 or not sys.stderr.isatty():
        return
    width = 30
    filled = width * done // max(total, 1)
    end = "\n" if done >= total else ""
    sys.stderr.write(f"\r{phase:<10} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}{end}")
    sys.stderr.flush()
