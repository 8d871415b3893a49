"""The directory's `maillage directory …` commands (import and export of the open directory).

Light at import: each command loads the exchange code when it runs, so `maillage --help` starts fast.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub import commands

if TYPE_CHECKING:
    from hub.runtime import Runtime


def cmd_directory_import(args: argparse.Namespace) -> int:
    async def work(rt: Runtime) -> int:
        from hub.errors import DomainError
        from network.exchange import importing

        try:
            report = await importing.import_paths(
                rt,
                [Path(name) for name in args.files],
                args.format,
                source=args.source,
                dry_run=args.dry_run,
                progress=commands.progress_bar,
            )
        except DomainError as error:
            print(f"Import impossible : {error.message}", file=sys.stderr)
            return 2
        label = {"datainclusion": "data·inclusion", "mednum": "médiation numérique"}[args.format]
        if report.dry_run:
            print(f"Simulation de l'import {label} : rien n'a été enregistré.")
        else:
            print(f"Import {label} terminé.")
        for line in report.summary_lines():
            print(line)
        if report.noted:
            print(f"Lignes gardées, un champ laissé vide ({len(report.noted)}) :")
            for row in report.noted:
                print(f"  {row.file} {row.where} ({row.ident or 'sans id'}) : {' ; '.join(row.notes)}")
        if report.rejected:
            print(f"Lignes refusées ({len(report.rejected)}) :")
            for row in report.rejected:
                print(f"  {row.file} {row.where} ({row.ident or 'sans id'}) : {' ; '.join(row.reasons)}")
            return 1
        return 0

    return commands.run(args, work)


def cmd_directory_export(args: argparse.Namespace) -> int:
    async def work(rt: Runtime) -> int:
        from hub.errors import DomainError
        from network.exchange import export

        try:
            report = await export.export_directory(rt, args.format, Path(args.out))
        except (DomainError, OSError) as error:
            print(f"Export impossible : {getattr(error, 'message', error)}", file=sys.stderr)
            return 2
        for line in report.summary_lines():
            print(line)
        for line in report.skipped:
            print(f"  non exportée : {line}")
        return 0

    return commands.run(args, work)


def add_commands(sub: Any) -> None:
    """`maillage directory import|export`."""
    directory = sub.add_parser("directory", help="annuaire : échanges open data").add_subparsers(
        dest="directory_command", required=True
    )
    imp = directory.add_parser(
        "import", help="importer un fichier data·inclusion (JSON, CSV) ou médiation numérique (CSV)"
    )
    imp.add_argument("files", nargs="+", metavar="FICHIER", help="un fichier, ou structures puis services")
    imp.add_argument("--format", required=True, choices=["datainclusion", "mednum"])  # exchange.report.FORMATS_IN
    imp.add_argument("--source", help="nom de la source (par défaut : celle des lignes, ou mediation-numerique)")
    imp.add_argument("--dry-run", action="store_true", help="vérifier et compter sans rien enregistrer")
    imp.set_defaults(func=cmd_directory_import)
    exp = directory.add_parser("export", help="exporter l'annuaire ouvert (structures actives)")
    exp.add_argument(
        "--format", required=True, choices=["datainclusion-json", "datainclusion-csv", "mednum-csv", "geojson"]
    )
    exp.add_argument(
        "--out",
        required=True,
        metavar="FICHIER",
        help="datainclusion-csv : X.csv donne X-structures.csv et X-services.csv",
    )
    exp.set_defaults(func=cmd_directory_export)
