"""`python -m bench [NAME ...] [options]`: run the benchmarks (all by default), print their figures.

A benchmark is any module of this package with a `run(options=None) -> dict` function (its figures, with
"meets_target"); `common`, `serve` and `directory_data` are helpers. The options below tune api_get and cli_startup; the others
run with their own defaults (each also has its own `python -m bench.NAME --help`).

Exit code 0 when every benchmark ran (missed targets are printed, not failed, unless --strict: then 2);
1 when one could not run (server did not start, error answers under load...).
Set BENCH_DATABASE_URL=postgresql://… to measure PostgreSQL too (throwaway databases are created next to the
one named, and dropped afterwards).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

HELPERS = {"common", "serve", "directory_data"}
FIRST = ["api_get", "cli_startup"]


def discover() -> list[str]:
    names = [
        info.name
        for info in pkgutil.iter_modules([str(Path(__file__).resolve().parent)])
        if not info.name.startswith("_") and info.name not in HELPERS
    ]
    return [n for n in FIRST if n in names] + sorted(n for n in names if n not in FIRST)


def main(argv: list[str] | None = None) -> int:
    available = discover()
    parser = argparse.ArgumentParser(prog="python -m bench", description="Benchmarks de Maillage.")
    parser.add_argument("names", nargs="*", metavar="NOM", help=f"parmi : {', '.join(available)} (défaut : tous)")
    parser.add_argument("--seconds", type=float, default=5.0, help="api_get : durée d'une mesure (par cible)")
    parser.add_argument("--rounds", type=int, default=3, help="api_get : mesures alternées par cible")
    parser.add_argument("--concurrency", type=int, default=16, help="api_get : connexions simultanées")
    parser.add_argument("--load", choices=["auto", "wrk", "httpx"], default="auto", help="api_get : générateur")
    parser.add_argument("--runs", type=int, default=20, help="cli_startup : exécutions par commande")
    parser.add_argument("--strict", action="store_true", help="code de sortie 2 si une cible n'est pas atteinte")
    args = parser.parse_args(argv)

    if not 1 <= args.seconds <= 60 or not 1 <= args.rounds <= 10 or not 1 <= args.concurrency <= 256:
        parser.error("bornes : --seconds 1..60, --rounds 1..10, --concurrency 1..256")
    if not 1 <= args.runs <= 200:
        parser.error("bornes : --runs 1..200")
    selected = args.names or available
    unknown = [name for name in selected if name not in available]
    if unknown:
        parser.error(f"benchmark inconnu : {', '.join(unknown)} (choix : {', '.join(available)})")

    def runner(name: str) -> Callable[[], dict[str, Any]]:
        module = importlib.import_module(f"bench.{name}")
        if name == "api_get":
            options: Any = module.Options(
                seconds=args.seconds, rounds=args.rounds, concurrency=args.concurrency, load=args.load
            )
            return lambda: module.run(options)  # type: ignore[no-any-return]
        if name == "cli_startup":
            options = module.Options(runs=args.runs)
            return lambda: module.run(options)  # type: ignore[no-any-return]
        if not callable(getattr(module, "run", None)):
            raise TypeError(f"bench.{name} n'a pas de fonction run()")
        return module.run  # type: ignore[no-any-return]

    failed: list[str] = []
    missed: list[str] = []
    timings: list[str] = []
    started = time.monotonic()
    for name in selected:
        began = time.monotonic()
        try:
            result = runner(name)()
        except Exception:
            traceback.print_exc()
            failed.append(name)
            continue
        finally:
            timings.append(f"{name} {time.monotonic() - began:.0f} s")
        if not result.get("meets_target", True):
            missed.append(name)
        print()
    print(
        f"== bilan ({time.monotonic() - started:.0f} s : {', '.join(timings)}) : "
        f"{len(selected) - len(failed)}/{len(selected)} benchmarks exécutés"
        + (f" ; en échec : {', '.join(failed)}" if failed else "")
        + (f" ; cible non atteinte : {', '.join(missed)}" if missed else " ; cibles atteintes")
    )
    if failed:
        return 1
    return 2 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
