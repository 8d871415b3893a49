"""Reading and validating a large import file in another process, so the site's own process keeps its event loop.

A worker thread is not enough for a département's file: `json.loads` of 85 MB is one C call that holds the GIL
for seconds, and the validation's Python code competes with the event loop for it. Here a child process
(`python -m network.exchange.elsewhere`) parses the files named on its stdin and pickles the result to a file,
a slice at a time on one Pickler (its memo keeps the rows shared between outcomes and candidates shared); the
parent unpickles the slices one by one, letting the loop run between them. A refused file comes back as its
French message (Invalid), as it would from the thread. Progress goes to the import's progress file directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import pickle
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hub.errors import Invalid
from network.exchange.files import InputFile
from network.exchange.report import RowOutcome
from network.exchange.rows import Candidate

IN_PROCESS_FROM_BYTES = 4_000_000  # smaller files: a worker thread (starting a process costs about a second)
SLICE = 2000  # rows per pickled slice: each unpickled in a few milliseconds
PROGRESS_EVERY_S = 0.5


def write_json(path: Path, value: Any) -> None:
    """Replaced whole (written beside, then renamed): a reader never sees half of it."""
    partial = path.with_name(path.name + ".partiel")
    partial.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    os.replace(partial, path)


@dataclasses.dataclass
class ProgressFile:
    """A Progress callback (network.exchange.report) that keeps (phase, done, total) in a small JSON file, at most
    every PROGRESS_EVERY_S and at each change of phase; any process can read it (and write it: the child does)."""

    path: Path
    phase: str = ""
    written_at: float = 0.0

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if phase != self.phase or done >= total or now - self.written_at >= PROGRESS_EVERY_S:
            self.phase, self.written_at = phase, now
            with contextlib.suppress(OSError):  # progress is for the eyes; the import goes on without it
                write_json(self.path, {"phase": phase, "done": done, "total": total})


Parsed = tuple[list[RowOutcome], list[Candidate], list[Candidate]]


def worth_it(files: Sequence[InputFile]) -> bool:
    return all(f.path is not None for f in files) and sum(len(f.content) for f in files) >= IN_PROCESS_FROM_BYTES


async def parse(fmt: str, files: Sequence[InputFile], source: str | None, progress: Any) -> Parsed:
    """The parser of `fmt` run in a child process on the files' paths; raises Invalid as the parser does."""
    progress_path = str(progress.path) if isinstance(progress, ProgressFile) else ""
    with tempfile.TemporaryDirectory(prefix="maillage-import-") as tmp:
        out = Path(tmp) / "parsed.pickle"
        request = {
            "format": fmt,
            "source": source,
            "files": [{"name": f.name, "path": str(f.path)} for f in files],
            "progress": progress_path,
            "out": str(out),
        }
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "network.exchange.elsewhere",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            stdout, stderr = await child.communicate(json.dumps(request).encode())
        except BaseException:  # cancelled: the child does not outlive the import
            with contextlib.suppress(ProcessLookupError):
                child.kill()
            raise
        if child.returncode == 3:
            refused = json.loads(stdout)
            raise Invalid(refused["message"], refused["fields"])
        if child.returncode != 0:
            raise RuntimeError(
                f"import parser exited with {child.returncode}: {stderr.decode(errors='replace')[-500:]}"
            )
        return await _unpickle(out)


async def _unpickle(path: Path) -> Parsed:
    handle = await asyncio.to_thread(path.open, "rb")
    with handle:
        unpickler = pickle.Unpickler(handle)  # noqa: S301 (our own child's output, in our own temporary folder)
        sizes = unpickler.load()
        parts: list[list[Any]] = []
        for size in sizes:
            part: list[Any] = []
            for _ in range(0, size, SLICE):
                part += unpickler.load()
                await asyncio.sleep(0)  # the loop serves others between slices
            parts.append(part)
    outcomes, structures, services = parts
    return outcomes, structures, services


def _child() -> int:
    from network.exchange.datainclusion import parse_datainclusion
    from network.exchange.mednum import parse_mednum

    request = json.loads(sys.stdin.read())
    files = [InputFile(f["name"], Path(f["path"]).read_bytes(), Path(f["path"])) for f in request["files"]]
    parser = parse_datainclusion if request["format"] == "datainclusion" else parse_mednum
    progress = ProgressFile(Path(request["progress"])) if request["progress"] else None
    try:
        parsed = parser(files, request["source"], progress)
    except Invalid as error:
        sys.stdout.write(json.dumps({"message": error.message, "fields": error.fields}))
        return 3
    with open(request["out"], "wb") as out:
        pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
        pickler.dump([len(rows) for rows in parsed])
        for rows in parsed:
            for start in range(0, len(rows), SLICE):
                pickler.dump(rows[start : start + SLICE])
    return 0


if __name__ == "__main__":
    sys.exit(_child())
