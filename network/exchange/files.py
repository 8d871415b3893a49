"""Files in and out: input read whole and refused at the file level (encoding, JSON, delimiter, columns) before
any write; output written beside its final name and moved into place only once complete."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from hub.errors import Invalid
from hub.limits import TOO_DEEP, TOO_LONG_NUMBER, bounded_int
from hub.spreadsheets import safe_cell


def fatal(message: str) -> Invalid:
    """A file the import cannot read at all: refused whole, before any write."""
    return Invalid(f"{message} Rien n'a été importé.")


@dataclasses.dataclass(frozen=True)
class InputFile:
    name: str
    content: bytes
    path: Path | None = None  # on disk (an upload): a large file is then parsed by another process (elsewhere)

    @classmethod
    def from_path(cls, path: Path) -> InputFile:
        try:
            return cls(path.name, path.read_bytes())  # the command line parses in a thread (no loop to keep free)
        except OSError as error:
            raise fatal(f"{path} : fichier illisible ({error.strerror or error}).") from error


@dataclasses.dataclass(slots=True)
class RawRow:
    file: str
    where: str
    data: dict[str, Any]
    problem: str = ""  # a row broken at the file level (wrong number of cells…)


def decode(file: InputFile) -> str:
    try:
        return file.content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = file.content[: error.start].count(b"\n") + 1
        hint = ""
        try:
            file.content.decode("cp1252")
            hint = " Il semble enregistré en Latin-1 (Windows-1252) : réenregistrez-le en UTF-8."
        except UnicodeDecodeError:
            pass
        raise fatal(f"{file.name} : le fichier n'est pas encodé en UTF-8 (ligne {line}).{hint}") from error


def read_json(file: InputFile) -> Any:
    """The whole file; nesting and integers are capped (hub.limits) so a hostile file is refused, never a 500."""
    text = decode(file)
    try:
        return json.loads(text, parse_int=bounded_int)
    except json.JSONDecodeError as error:
        raise fatal(f"{file.name} : JSON invalide ou tronqué (ligne {error.lineno}, colonne {error.colno}).") from error
    except RecursionError as error:  # the C parser's own cap on nesting, far above any real export's 4 levels
        raise fatal(f"{file.name} : {TOO_DEEP.split(' :')[0]}.") from error
    except ValueError as error:  # bounded_int's refusal
        raise fatal(f"{file.name} : {TOO_LONG_NUMBER}") from error


def read_csv(file: InputFile, required: Iterable[str]) -> tuple[list[str], list[RawRow]]:
    """Header and rows of a comma-separated file; wrong delimiter, bad quoting or missing columns are fatal."""
    reader = csv.reader(io.StringIO(decode(file), newline=""), strict=True)
    rows: list[RawRow] = []
    try:
        header = [name.strip().lower() for name in next(reader, [])]
        if not any(header):
            raise fatal(f"{file.name} : fichier vide (aucune ligne d'en-tête).")
        if len(header) == 1:
            for delimiter, label in ((";", "point-virgule"), ("\t", "tabulation"), ("|", "barre verticale")):
                if delimiter in header[0]:
                    raise fatal(
                        f"{file.name} : les colonnes sont séparées par des « {label} » ; le format attendu "
                        "sépare les colonnes par des virgules (,). Réenregistrez le fichier en CSV « virgule »."
                    )
        missing = [name for name in required if name not in header]
        if missing:
            raise fatal(f"{file.name} : colonne(s) obligatoire(s) absente(s) : {', '.join(missing)}.")
        first_line = reader.line_num + 1
        for cells in reader:
            where = f"ligne {first_line}"
            first_line = reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(header):
                rows.append(
                    RawRow(
                        file.name,
                        where,
                        {},
                        f"la ligne compte {len(cells)} colonne(s) au lieu de {len(header)} "
                        "(séparateur ou guillemets mal placés ?)",
                    )
                )
                continue
            rows.append(RawRow(file.name, where, {k: v.strip() for k, v in zip(header, cells, strict=True) if k}))
    except csv.Error as error:
        raise fatal(f"{file.name} : CSV mal formé à la ligne {reader.line_num} ({error}).") from error
    return header, rows


def csv_cell(value: Any) -> str:
    """A cell of an exported CSV: lists written `a|b`, formulas neutralised (hub.spreadsheets)."""
    if isinstance(value, list):
        return safe_cell("|".join(str(v) for v in value))
    return safe_cell(value)


@dataclasses.dataclass
class Sink:
    """A file written beside its final name, moved into place only when complete."""

    path: Path
    handle: TextIO | None = None

    def open(self) -> TextIO:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = self.path.with_name(self.path.name + ".partiel").open("w", encoding="utf-8", newline="")
        return self.handle

    def commit(self) -> None:
        assert self.handle is not None
        self.handle.close()
        self.path.with_name(self.path.name + ".partiel").replace(self.path)

    def abort(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.path.with_name(self.path.name + ".partiel").unlink(missing_ok=True)


def csv_paths(out: Path) -> tuple[Path, Path]:
    """data·inclusion CSV is two files: <stem>-structures.csv and <stem>-services.csv beside `out`."""
    stem = out.stem.removesuffix("-structures").removesuffix("-services")
    suffix = out.suffix or ".csv"
    return out.with_name(f"{stem}-structures{suffix}"), out.with_name(f"{stem}-services{suffix}")
