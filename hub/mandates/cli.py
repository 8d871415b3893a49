"""The mandates' `maillage mandates …` commands for operators: list, pdf, verify.

Light at import: each command loads the service when it runs, so `maillage --help` starts fast. The list
prints numbers, structures, scopes and dates, never a resident's name.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub import commands

if TYPE_CHECKING:
    from hub.runtime import Runtime

STATUS_CHOICES = ("draft", "signed", "active", "expired", "revoked", "cancelled")
# verify's exit codes: 0 valid; each other verdict its own code, so a script can tell them apart
EXIT_CODES = {"valide": 0, "altéré": 3, "inconnu": 4, "expiré": 5, "révoqué": 6}


def cmd_mandates_list(args: argparse.Namespace) -> int:
    async def work(rt: Runtime) -> int:
        from hub.mandates import service
        from hub.tables import Structure

        rows = await service.operator_list(rt, args.status or "")
        names = {r["id"]: r["name"] for r in await Structure.select(Structure.id, Structure.name)}
        if not rows:
            print("Aucun mandat." if not args.status else f"Aucun mandat au statut « {args.status} ».")
            return 0
        print(f"{'id':>6}  {'numéro':<14} {'statut':<10} {'début':<10} {'fin':<10} structure — démarches")
        for row in rows:
            print(
                f"{row.id:>6}  {row.number:<14} {row.status:<10} {row.starts_on.isoformat():<10} "
                f"{row.ends_on.isoformat():<10} {names.get(row.structure_id, '?')} — {', '.join(row.scopes) or '-'}"
                + (f" (annulées : {', '.join(row.revoked_scopes)})" if row.revoked_scopes else "")
            )
        print(f"{len(rows)} mandat(s).")
        return 0

    return commands.run(args, work)


def cmd_mandates_pdf(args: argparse.Namespace) -> int:
    async def work(rt: Runtime) -> int:
        from hub.errors import DomainError
        from hub.mandates import finalise
        from hub.mandates.tables import Mandate

        row = await Mandate.select().where(Mandate.id == args.id).first()
        if row is None:
            print(f"Mandat {args.id} introuvable.", file=sys.stderr)
            return 2
        if args.docx:
            if not row["finalised_at"]:
                print(f"Le mandat {row['number']} n'est pas finalisé : pas de document définitif.", file=sys.stderr)
                return 2
            try:
                content = await finalise.final_docx(rt, row)
            except DomainError as error:
                print(f"Document impossible : {error.message}", file=sys.stderr)
                return 2
        else:
            if not row["sealed_pdf"]:
                print(f"Le mandat {row['number']} n'a pas de PDF scellé (statut : {row['status']}).", file=sys.stderr)
                return 2
            content = bytes(row["sealed_pdf"])
        try:
            await asyncio.to_thread(Path(args.out).write_bytes, content)
        except OSError as error:
            print(f"Écriture impossible de {args.out} : {error.strerror}", file=sys.stderr)
            return 2
        print(f"{'DOCX' if args.docx else 'PDF scellé'} du mandat {row['number']} écrit dans {args.out}.")
        return 0

    return commands.run(args, work)


def cmd_mandates_verify(args: argparse.Namespace) -> int:
    try:
        data = Path(args.file).read_bytes()
    except OSError as error:
        print(f"Lecture impossible de {args.file} : {error.strerror}", file=sys.stderr)
        return 2

    async def work(rt: Runtime) -> int:
        from hub.mandates import verify

        result = await verify.verify_file(rt, data)
        stream = sys.stdout if result.ok else sys.stderr
        print(f"{result.status.upper()} : {result.reason_fr}", file=stream)
        for scope in result.scopes:
            print(f"  {scope.label} : {scope.status}", file=stream)
        return EXIT_CODES[result.status]

    return commands.run(args, work)


def add_commands(sub: Any) -> None:
    """`maillage mandates list|pdf|verify`."""
    mandates = sub.add_parser("mandates", help="mandats : liste, PDF scellé, vérification").add_subparsers(
        dest="mandates_command", required=True
    )
    listing = mandates.add_parser("list", help="liste les mandats (sans nom de personne)")
    listing.add_argument("--status", choices=STATUS_CHOICES, help="seulement ce statut")
    listing.set_defaults(func=cmd_mandates_list)
    pdf = mandates.add_parser("pdf", help="écrit le PDF scellé d'un mandat (ou son DOCX avec --docx)")
    pdf.add_argument("id", type=int, help="identifiant du mandat (colonne id de la liste)")
    pdf.add_argument("--out", required=True, help="fichier à écrire")
    pdf.add_argument("--docx", action="store_true", help="le DOCX rendu plutôt que le PDF scellé")
    pdf.set_defaults(func=cmd_mandates_pdf)
    check = mandates.add_parser(
        "verify", help="vérifie un PDF de mandat : sceau, empreinte, statut (code 0 seulement s'il est valide)"
    )
    check.add_argument("file", help="le PDF à vérifier")
    check.set_defaults(func=cmd_mandates_verify)
