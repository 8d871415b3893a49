"""The `maillage` command. Each subcommand imports what it needs when it runs, so `--help` starts fast."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from hub.settings import Settings


def _run(coroutine_factory: Callable[[Settings], Coroutine[Any, Any, int]]) -> int:
    return asyncio.run(coroutine_factory(Settings.from_env()))


async def _with_engine(settings: Settings, work: Callable[[], Coroutine[Any, Any, int]]) -> int:
    from hub import db  # heavy (ORM, drivers): loaded only by the commands that touch the database

    engine = db.make_engine(settings)
    db.bind_engine(engine)
    await db.start(engine)
    try:
        return await work()
    finally:
        await db.stop(engine)


def cmd_migrate(args: argparse.Namespace) -> int:
    async def run(settings: Settings) -> int:
        from hub import db

        async def work() -> int:
            await db.migrate(db.current_engine())
            return 0

        return await _with_engine(settings, work)

    return _run(run)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from hub.app import create_app

    cmd_migrate(args)
    settings = Settings.from_env()
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
    settings = Settings.from_env()
    if settings.is_production:
        print("Refusé : la démo ne s'installe pas quand MAILLAGE_ENV=production.", file=sys.stderr)
        return 2

    if args.code:
        from hub import demo as demo_data

        code = demo_data.current_code(args.code)
        if code is None:
            print("Ce compte n'est pas un compte de démonstration à double authentification.", file=sys.stderr)
            return 2
        print(code)
        return 0

    async def run(settings: Settings) -> int:
        from hub import db, demo
        from hub.runtime import Runtime

        async def work() -> int:
            await db.migrate(db.current_engine())
            report = await demo.seed(Runtime(settings), only_if_empty=args.if_empty)
            print(demo.describe(report))
            return 0

        return await _with_engine(settings, work)

    return _run(run)


def cmd_journal_verify(args: argparse.Namespace) -> int:
    async def run(settings: Settings) -> int:
        from hub import journal
        from hub.runtime import Runtime

        async def work() -> int:
            runtime = Runtime(settings)
            result = await journal.full_check(runtime.secrets.journal_key, runtime.now())  # recorded for the page
            if result.ok:
                print(f"Journal intact : {result.checked} entrées vérifiées.")
                return 0
            print(
                f"Journal altéré : entrée n° {result.first_bad_seq} ({result.reason}) ; "
                f"{result.checked} entrées valides avant elle.",
                file=sys.stderr,
            )
            return 1

        return await _with_engine(settings, work)

    return _run(run)


def cmd_jobs_run(args: argparse.Namespace) -> int:
    async def run(settings: Settings) -> int:
        from hub import jobs
        from hub.runtime import Runtime

        runtime = Runtime(settings)

        async def work() -> int:
            if args.once:
                report = await jobs.tick(runtime)
                print(
                    f"Courriels envoyés : {report.mails_sent}, reportés : {report.mails_postponed} ; "
                    f"tâches faites : {report.jobs_done}, en échec : {report.jobs_failed} ; purgés : {report.purged}."
                )
                return 0
            await jobs.loop(runtime, asyncio.Event())
            return 0

        return await _with_engine(settings, work)

    return _run(run)


def cmd_user_create(args: argparse.Namespace) -> int:
    password = os.environ.get("MAILLAGE_NEW_PASSWORD") or getpass.getpass("Mot de passe (12 caractères au moins) : ")

    async def run(settings: Settings) -> int:
        from hub import accounts
        from hub.errors import DomainError
        from hub.runtime import Runtime

        async def work() -> int:
            try:
                user_id = await accounts.create_user(
                    Runtime(settings),
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

        return await _with_engine(settings, work)

    return _run(run)


def _progress_bar(phase: str, done: int, total: int) -> None:
    """A one-line bar on stderr, only on a terminal and for files worth waiting for."""
    if total < 2000 or not sys.stderr.isatty():
        return
    width = 30
    filled = width * done // max(total, 1)
    end = "\n" if done >= total else ""
    sys.stderr.write(f"\r{phase:<10} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}{end}")
    sys.stderr.flush()


def cmd_directory_import(args: argparse.Namespace) -> int:
    async def run(settings: Settings) -> int:
        from pathlib import Path

        from hub.errors import DomainError
        from hub.runtime import Runtime
        from network.exchange import importing

        async def work() -> int:
            try:
                report = await importing.import_paths(
                    Runtime(settings),
                    [Path(name) for name in args.files],
                    args.format,
                    source=args.source,
                    dry_run=args.dry_run,
                    progress=_progress_bar,
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

        return await _with_engine(settings, work)

    return _run(run)


def cmd_directory_export(args: argparse.Namespace) -> int:
    async def run(settings: Settings) -> int:
        from pathlib import Path

        from hub.errors import DomainError
        from hub.runtime import Runtime
        from network.exchange import export

        async def work() -> int:
            try:
                report = await export.export_directory(Runtime(settings), args.format, Path(args.out))
            except (DomainError, OSError) as error:
                print(f"Export impossible : {getattr(error, 'message', error)}", file=sys.stderr)
                return 2
            for line in report.summary_lines():
                print(line)
            for line in report.skipped:
                print(f"  non exportée : {line}")
            return 0

        return await _with_engine(settings, work)

    return _run(run)


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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
