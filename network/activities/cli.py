"""`maillage activities import|export`: a partner's Coop export or Maillage's template in, the network's activities
out as XLSX. Light at import: each command loads its code when it runs, so `maillage --help` starts fast."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub import commands

if TYPE_CHECKING:
    from hub.runtime import Runtime


def cmd_import(args: argparse.Namespace) -> int:
    async def work(rt: Runtime) -> int:
        from hub.errors import DomainError
        from network.activities import imports

        try:
            structure_id = await imports.resolve_structure(args.structure)
            report = await imports.import_file(
                rt,
                Path(args.file),
                structure_id,
                fmt=args.format,
                dry_run=args.dry_run,
                actor=None,
            )
        except DomainError as error:
            print(f"Import impossible : {error.message}", file=sys.stderr)
            for line in error.fields.values():
                print(f"  {line}", file=sys.stderr)
            return 2
        for line in report.summary_lines():
            print(line)
        for row in report.refused:
            print(f"  ligne {row.line} ({row.source_id or 'sans id'}) : {' ; '.join(row.reasons)}")
        return 1 if report.refused else 0

    return commands.run(args, work)


def cmd_export(args: argparse.Namespace) -> int:
    async def work(rt: Runtime) -> int:
        from hub.errors import DomainError
        from network.activities import imports

        try:
            start, end = date.fromisoformat(args.start), date.fromisoformat(args.end)
        except ValueError:
            print("Export impossible : dates attendues au format AAAA-MM-JJ.", file=sys.stderr)
            return 2
        try:
            count = await imports.export_xlsx(rt, start, end, Path(args.out))
        except (DomainError, OSError) as error:
            print(f"Export impossible : {getattr(error, 'message', error)}", file=sys.stderr)
            return 2
        print(f"{count} activités exportées dans {args.out}.")
        return 0

    return commands.run(args, work)


def add_commands(sub: Any) -> None:
    """`maillage activities import|export`."""
    activities = sub.add_parser("activities", help="activités des partenaires : import et export").add_subparsers(
        dest="activities_command", required=True
    )
    imp = activities.add_parser("import", help="importer un export de la Coop ou le modèle de Maillage (CSV, XLSX)")
    imp.add_argument("file", metavar="FICHIER")
    imp.add_argument("--structure", required=True, metavar="ID|SIRET", help="la structure dont ce sont les activités")
    imp.add_argument("--format", choices=["coop", "template"], help="par défaut : reconnu d'après les en-têtes")
    imp.add_argument("--dry-run", action="store_true", help="vérifier et compter sans rien enregistrer")
    imp.set_defaults(func=cmd_import)
    exp = activities.add_parser("export", help="exporter les activités du réseau (XLSX)")
    exp.add_argument("--from", dest="start", required=True, metavar="AAAA-MM-JJ")
    exp.add_argument("--to", dest="end", required=True, metavar="AAAA-MM-JJ")
    exp.add_argument("--out", required=True, metavar="FICHIER.xlsx")
    exp.set_defaults(func=cmd_export)
