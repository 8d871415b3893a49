"""Start-up time of the `maillage` command: `maillage --help` against `python -c pass` (the floor).

Wall time of whole processes over N runs (after warm-up runs that fill the bytecode caches);
median and p95 for each, and the ratio ours/floor of the medians. Target: median under 1 s.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import PROJECT_ROOT, fmt_ms, median, percentile, write_result

TARGET_SECONDS = 1.0


@dataclasses.dataclass
class Options:
    runs: int = 20
    warmups: int = 2
    max_seconds: float = 60.0  # the whole benchmark stops sampling past this


def maillage_command() -> list[str]:
    script = Path(sys.executable).parent / "maillage"
    if script.exists():
        return [str(script), "--help"]
    return [sys.executable, "-m", "hub.cli", "--help"]


def _time_once(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} a échoué (code {done.returncode}) : {done.stderr.decode()[:500]}")
    return elapsed


def _figures(samples: list[float]) -> dict[str, Any]:
    return {
        "runs": len(samples),
        "median_ms": round(median(samples) * 1000, 2),
        "p95_ms": round(percentile(samples, 95) * 1000, 2),
        "min_ms": round(min(samples) * 1000, 2),
        "max_ms": round(max(samples) * 1000, 2),
    }


def run(options: Options | None = None) -> dict[str, Any]:
    options = options or Options()
    command = maillage_command()
    floor_command = [sys.executable, "-c", "pass"]
    print(f"== cli_startup : `maillage --help` contre `python -c pass` ({options.runs} exécutions chacun)")
    deadline = time.monotonic() + options.max_seconds
    with tempfile.TemporaryDirectory(prefix="maillage-bench-cli-") as tmp:
        # --help must touch nothing; a private var dir makes sure a stray write would not land in the project.
        env = {**os.environ, "MAILLAGE_VAR_DIR": tmp}
        for _ in range(options.warmups):  # fill the bytecode caches, the page cache
            _time_once(floor_command, env)
            _time_once(command, env)
        floor: list[float] = []
        ours: list[float] = []
        # Alternate the two commands, so that drift on the machine hits both alike.
        while len(ours) < options.runs and (time.monotonic() < deadline or len(ours) < 3):
            floor.append(_time_once(floor_command, env))
            ours.append(_time_once(command, env))
    figures = {"floor": _figures(floor), "ours": _figures(ours)}
    ratio = median(ours) / median(floor)
    meets = median(ours) < TARGET_SECONDS
    print(f"  {'':34} {'médiane':>11} {'p95':>11} {'min':>11}")
    for name, label in (("floor", "python -c pass (plancher)"), ("ours", "maillage --help")):
        f = figures[name]
        print(f"  {label:<34} {fmt_ms(f['median_ms'])} {fmt_ms(f['p95_ms'])} {fmt_ms(f['min_ms'])}")
    print(
        f"  ratio médianes ours/floor = {ratio:.1f}x ; surcoût = {figures['ours']['median_ms'] - figures['floor']['median_ms']:.0f} ms ; "
        f"cible médiane < {TARGET_SECONDS:.0f} s : {'atteint' if meets else 'NON ATTEINT'}"
    )
    result = {
        "command": [Path(command[0]).name, *command[1:]],
        "options": dataclasses.asdict(options),
        "figures": figures,
        "ratio_median": round(ratio, 2),
        "overhead_ms": round(figures["ours"]["median_ms"] - figures["floor"]["median_ms"], 2),
        "target_seconds": TARGET_SECONDS,
        "meets_target": meets,
    }
    path = write_result("cli_startup", result)
    print(f"  résultats : {path.relative_to(PROJECT_ROOT)}")
    return result


if __name__ == "__main__":
    run()
