"""The `maillage` command (composition root): the core's sub-commands and each module's.

Each sub-command imports what it needs when it runs, so `--help` starts fast."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from typing import TYPE_CHECKING

from hub import commands
from hub.composition import MODULES

if TYPE_CHECKING:
    from hub.runtime import Runtime


def cmd_migrate(args: argparse.Namespace) -> int:
    async def work(rt: Runtime) -> int:
        from hub import db

        await db.migrate(db.current_engine())
        return 0

    return commands.run(args, work)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from hub.app import create_app

    cmd_migrate(args)
    if not os.environ.get("MAILLAGE_BASE_URL"):  # links in pages, mails and documents name the address served
        host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host  # noqa: S104 (a comparison)
        os.environ["MAILLAGE_BASE_URL"] = f"http://{host}:{args.port}"
    settings = commands.settings_from_env(MODULES)
    print(
        f"Maillage écoute sur http://{args.host}:{args.port} (base de données : {settings.database_url.split('://')[0]}, "
        f"{args.workers} processus)"
    )
    # No access log: paths of single-use links carry tokens, and logs must not.
    if args.workers > 1:  # several processes: uvicorn builds the app in each one from the factory
        uvicorn.run(
            "hub.app:app_from_env",
            factory=True,
            workers=args.workers,
            host=args.host,
            port=args.port,
            access_log=False,
            proxy_headers=args.proxy_headers,
        )
        return 0
    uvicorn.run(
        create_app(settings), host=args.host, port=args.port, access_log=False, proxy_headers=args.proxy_headers
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    settings = commands.settings_from_env(MODULES)
    if settings.is_production:
        print("Refusé : la démo ne s'installe pas quand MAILLAGE_ENV=production.", file=sys.stderr)
        return 2

    async def work(rt: Runtime) -> int:
        from hub import db, demo

        if args.code:  # the secrets are drawn per install: read (and unsealed) from the database
            code = await demo.current_code(rt, args.code)
            if code is None:
                print("Ce compte n'est pas un compte de démonstration à double authentification.", file=sys.stderr)
                return 2
            print(code)
            return 0
        await db.migrate(db.current_engine())
        report = await demo.seed(rt, only_if_empty=args.if_empty)
        print(demo.describe(report, await demo.totp_secrets(rt)))
        return 0

    return commands.run(args, work)


def cmd_journal_verify(args: argparse.Namespace) -> int:
    async def work(rt: Runtime) -> int:
        from hub import journal

        result = await journal.full_check(rt.secrets.journal_key, rt.now())  # recorded for the page
        if result.ok:
            print(f"Journal intact : {result.checked} entrées vérifiées.")
            return 0
        print(
            f"Journal altéré : entrée n° {result.first_bad_seq} ({result.reason}) ; "
            f"{result.checked} entrées valides avant elle.",
            file=sys.stderr,
        )
        return 1

    return commands.run(args, work)


def cmd_jobs_run(args: argparse.Namespace) -> int:
    async def work(rt: Runtime) -> int:
        from hub import jobs

        if args.once:
            report = await jobs.tick(rt)
            print(
                f"Courriels envoyés : {report.mails_sent}, reportés : {report.mails_postponed} ; "
                f"tâches faites : {report.jobs_done}, en échec : {report.jobs_failed} ; purgés : {report.purged}."
            )
            for line in report.work_lines():
                print(line)
            return 0
        await jobs.loop(rt, asyncio.Event())
        return 0

    return commands.run(args, work)


def cmd_user_create(args: argparse.Namespace) -> int:
    password = os.environ.get("MAILLAGE_NEW_PASSWORD") or getpass.getpass("Mot de passe (12 caractères au moins) : ")

    async def work(rt: Runtime) -> int:
        from hub import accounts
        from hub.errors import DomainError

        try:
            user_id = await accounts.create_user(
                rt,
                email=args.email,
                full_name=args.name,
                password=password,
                is_admin=args.admin,
                is_coordinator=args.coordinator,
            )
        except DomainError as error:
            print(f"Refusé : {error.message} {' '.join(error.fields.values())}", file=sys.stderr)
            return 2
        print(f"Compte créé (n° {user_id}).")
        return 0

    return commands.run(args, work)


def cmd_falc_check(args: argparse.Namespace) -> int:
    from hub.falc import UnreadableDocument, check_docx

    try:
        report = check_docx(args.file)
    except UnreadableDocument as error:
        print(f"Illisible : {error.message}", file=sys.stderr)
        return 2
    for breach in report.breaches:
        print(breach.describe())
    annex = f" ; annexe non FALC à partir du {report.stopped_at_annex}, non vérifiée" if report.stopped_at_annex else ""
    summary = f"{len(report.errors)} erreur(s), {len(report.warnings)} avertissement(s) ; {report.paragraphs_read} paragraphes lus{annex}."
    print(
        summary
        if report.errors or report.warnings
        else f"Aucune erreur FALC : {report.paragraphs_read} paragraphes lus{annex}."
    )
    return 0 if report.ok else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="maillage", description="Maillage : le carrefour du réseau des partenaires.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="migrer la base puis servir l'application")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--proxy-headers", action="store_true", help="faire confiance à X-Forwarded-* (derrière un proxy)"
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("MAILLAGE_WORKERS", "1")),
        help="processus servant les requêtes (en production : un par cœur ; défaut : MAILLAGE_WORKERS ou 1)",
    )
    serve.set_defaults(func=cmd_serve)

    db = sub.add_parser("db", help="base de données").add_subparsers(dest="db_command", required=True)
    db.add_parser("migrate", help="appliquer les migrations (SQLite ou PostgreSQL)").set_defaults(func=cmd_migrate)

    demo = sub.add_parser("demo", help="installer le réseau de démonstration (jamais en production)")
    demo.add_argument("--if-empty", action="store_true", help="ne rien faire si la base contient déjà des comptes")
    demo.add_argument("--code", metavar="EMAIL", help="afficher le code TOTP du moment d'un compte de démonstration")
    demo.set_defaults(func=cmd_demo)

    journal = sub.add_parser("journal", help="journal des actions").add_subparsers(
        dest="journal_command", required=True
    )
    journal.add_parser("verify", help="recalculer la chaîne ; code de sortie 1 si altérée").set_defaults(
        func=cmd_journal_verify
    )

    jobs = sub.add_parser("jobs", help="tâches dues et courriels").add_subparsers(dest="jobs_command", required=True)
    run = jobs.add_parser("run", help="exécuter les tâches dues (boucle, ou une fois avec --once)")
    run.add_argument("--once", action="store_true")
    run.set_defaults(func=cmd_jobs_run)

    user = sub.add_parser("user", help="comptes").add_subparsers(dest="user_command", required=True)
    create = user.add_parser("create", help="créer un compte (mot de passe demandé ou MAILLAGE_NEW_PASSWORD)")
    create.add_argument("email")
    create.add_argument("--name", required=True)
    create.add_argument("--admin", action="store_true")
    create.add_argument("--coordinator", action="store_true")
    create.set_defaults(func=cmd_user_create)

    falc = sub.add_parser("falc", help="documents en FALC").add_subparsers(dest="falc_command", required=True)
    falc_check = falc.add_parser("check", help="vérifier les règles FALC d'un .docx ; code de sortie 1 si erreurs")
    falc_check.add_argument("file", metavar="FICHIER.docx")
    falc_check.set_defaults(func=cmd_falc_check)

    for module in MODULES:
        if module.commands is not None:
            module.commands(sub)
    parser.set_defaults(modules=MODULES)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
