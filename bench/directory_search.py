"""Directory search on a synthetic département: 20,000 structures, 100,000 services.

`python -m bench.directory_search [--structures N] [--services N] [--queries N]`
BENCH_DATABASE_URL=postgresql://… measures PostgreSQL (a throwaway database is created next to the one
named, and dropped afterwards); by default a temporary SQLite file.

Steps: migrate an empty database; bulk-insert structures, services and places with the driver's
executemany / COPY; build the tags and the index with network.search (timed: it is what an import of
that size costs on top of its own writes); then run a fixed, seeded mix of realistic queries through
`search()` and, for each query with words, the bare full-text SQL query (the same ideas: each word with
its synonyms, any of them; top 20 by relevance, same engine and driver) in the same run. Targets: search p95 under 50 ms, and p95 within 2×
the raw query's p95.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import io
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.common import percentile, pg_database, write_result
from bench.directory_data import Dataset, generate, load_postgres, load_sqlite

TARGET_P95_MS = 50.0
TARGET_RATIO = 2.0
NOW = datetime(2026, 11, 24, 10, 30)  # a Tuesday morning, Europe/Paris: "open now" is meaningful


@dataclasses.dataclass
class Options:
    structures: int = 20_000
    services: int = 100_000
    queries: int = 400
    seed: int = 20261122
    database_url: str = ""  # "" = BENCH_DATABASE_URL, else a temporary SQLite file
    keep: str = ""  # a folder to keep the SQLite file in (and keep PostgreSQL's maillage_bench_search_kept), to
    # measure again without building (the queries only)


# ---------------------------------------------------------------- queries
WORDS = [
    "demarche caf",
    "démarches administratives",
    "atelier numérique",
    "ordinateur",
    "smartphone",
    "emploi",
    "cv",
    "permanence juridique",
    "france services",
    "ccas",
    "médiathèque",
    "impots",
    "retraite en ligne",
    "logement",
    "internet",
    "numerique debutant",
    "écrivain public",
    "budget",
    "accès aux droits",
    "cours de français",
    "numeri",
    "demar",
    "ordi",
    "caf",
    "prime d'activité",
    "tablette",
    "wifi",
    "parents",
    "permis",
    "centre social",
]


def query_mix(data: Dataset, options: Options) -> list[tuple[str, dict[str, Any]]]:
    """(class, SearchQuery fields) — a fixed, seeded mix of what the public and workers type."""
    rng = random.Random(options.seed + 1)
    big = data.communes[:25]
    mix: list[tuple[str, dict[str, Any]]] = []
    for _ in range(options.queries):
        commune = rng.choice(big)
        words = rng.choice(WORDS)
        roll = rng.random()
        if roll < 0.35:
            mix.append(("words", {"text": words}))
        elif roll < 0.45:
            mix.append(("words+commune", {"text": f"{words} {commune[0]}"}))
        elif roll < 0.65:
            filters: dict[str, Any] = {"text": words}
            for field, values in (
                ("thematiques", ["numerique", "difficultes-administratives-ou-juridiques"]),
                ("fees", ["gratuit"]),
                ("publics", ["seniors", "jeunes"]),
                ("accommodations", ["mobilite-reduite"]),
                ("open_now", [True]),
            ):
                if rng.random() < 0.35:
                    filters[field] = (rng.choice(values),) if field != "open_now" else True
            if rng.random() < 0.4:
                filters["commune"] = commune[0]
            mix.append(("words+filters", filters))
        elif roll < 0.80:
            mix.append(
                ("words+distance", {"text": words, "latitude": commune[2], "longitude": commune[3], "sort": "distance"})
            )
        elif roll < 0.90:
            mix.append(
                ("filters", {"commune": commune[0], "thematiques": ("numerique",), "open_now": rng.random() < 0.5})
            )
        else:
            radius = rng.choice([None, 5000.0, 10000.0])
            mix.append(
                (
                    "distance",
                    {
                        "latitude": commune[2] + 0.01,
                        "longitude": commune[3],
                        "radius_m": radius,
                        "open_now": rng.random() < 0.3,
                    },
                )
            )
    return mix


# ---------------------------------------------------------------- measure
async def _measure(options: Options, database_url: str, workdir: Path) -> dict[str, Any]:
    from piccolo.querystring import QueryString

    from hub import db
    from hub.settings import Settings
    from network.search import query as search
    from network.search.index import rebuild_index
    from network.search.text import concepts, query_terms

    settings = Settings(
        env="test", var_dir=workdir, database_url=database_url, secret_key="bench-" * 6, base_url="http://127.0.0.1"
    )
    engine = db.make_engine(settings)
    result: dict[str, Any] = {"engine": "sqlite" if database_url.startswith("sqlite") else "postgresql"}
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # Piccolo's migration chatter
        await db.migrate(engine)
    data = generate(options.structures, options.services, options.seed)
    result["generate_s"] = round(time.perf_counter() - started, 2)
    await db.start(engine)
    try:
        built = bool(options.keep) and bool(
            await engine.run_querystring(QueryString("SELECT 1 FROM network_search LIMIT 1"))
        )
        result["reused"] = built
        if not built:
            await db.stop(engine)
            started = time.perf_counter()
            if result["engine"] == "sqlite":
                load_sqlite(str(settings.sqlite_path), data)
            else:
                await load_postgres(database_url, data)
            result["load_s"] = round(time.perf_counter() - started, 2)
            await db.start(engine)
            started = time.perf_counter()
            report = await rebuild_index()
            result["index_s"] = round(time.perf_counter() - started, 2)
            result["index"] = {"services": report.services, "indexed": report.indexed, "tags": report.tags_written}
            started = time.perf_counter()
            again = await rebuild_index()
            result["reindex_unchanged_s"] = round(time.perf_counter() - started, 2)
            assert again.written == 0 and again.tags_written == 0, "a second rebuild rewrote rows"
            if result["engine"] == "postgresql":  # a settled database, as autovacuum keeps one: statistics, and
                await engine.run_ddl("VACUUM ANALYZE")  # the visibility map index-only scans read

        sqlite = result["engine"] == "sqlite"

        groups = await search.synonym_groups()

        def raw(text: str) -> QueryString:
            """The bare full-text query of the same ideas (each word with its synonyms, any of them), top 20."""
            found = concepts(text, groups)
            if sqlite:
                return QueryString(
                    f"SELECT rowid, bm25(network_search_fts, {search.BM25_WEIGHTS}) AS score FROM network_search_fts "
                    "WHERE network_search_fts MATCH {} ORDER BY score LIMIT 20",
                    search.fts5_match(found),
                )
            tsquery, args = search.pg_tsquery(found)
            return QueryString(
                f"WITH tq AS MATERIALIZED (SELECT {tsquery.replace('?', '{}')} AS q) SELECT x.service_id, "
                "ts_rank(x.document, tq.q) AS score "
                "FROM tq JOIN network_search_text x ON x.document @@ tq.q ORDER BY score DESC LIMIT 20",
                *args,
            )

        mix = query_mix(data, options)
        queries = [(kind, search.SearchQuery(**fields)) for kind, fields in mix]
        for _, query in queries[:50]:  # warm-up: page cache, prepared statements, parsed hours
            await search.search(query, now=NOW)
        timings: dict[str, list[float]] = defaultdict(list)
        raw_ms: list[float] = []
        word_ms: list[float] = []
        totals: list[int] = []
        deadline = time.monotonic() + 240
        for kind, query in queries:
            if time.monotonic() > deadline:
                break
            terms = query_terms(query.text)
            if terms:  # the raw query first, then ours: each pays the same cache state
                t0 = time.perf_counter()
                await engine.run_querystring(raw(query.text))
                raw_ms.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            page = await search.search(query, now=NOW)
            elapsed = (time.perf_counter() - t0) * 1000
            timings[kind].append(elapsed)
            timings["all"].append(elapsed)
            if terms:
                word_ms.append(elapsed)
            totals.append(page.total)
    finally:
        await db.stop(engine)

    def figures(values: list[float]) -> dict[str, float]:
        return {
            "n": len(values),
            "p50_ms": round(percentile(values, 50), 2),
            "p95_ms": round(percentile(values, 95), 2),
            "max_ms": round(max(values), 2),
        }

    result["search"] = {kind: figures(values) for kind, values in sorted(timings.items())}
    result["search_with_words"] = figures(word_ms)
    result["raw_fulltext"] = figures(raw_ms)
    result["ratio_p95"] = round(percentile(word_ms, 95) / percentile(raw_ms, 95), 2)
    result["ratio_p50"] = round(percentile(word_ms, 50) / percentile(raw_ms, 50), 2)
    result["median_total"] = sorted(totals)[len(totals) // 2]
    result["meets_target"] = result["search"]["all"]["p95_ms"] < TARGET_P95_MS and result["ratio_p95"] <= TARGET_RATIO
    return result


def print_result(result: dict[str, Any]) -> None:
    if result["reused"]:
        print(f"-- {result['engine']}: base d'une mesure précédente (--keep), réutilisée telle quelle")
    else:
        print(
            f"-- {result['engine']}: données générées en {result['generate_s']} s, chargées en {result['load_s']} s, "
            f"index (étiquettes + texte) construit en {result['index_s']} s ({result['index']['indexed']} services "
            f"cherchables sur {result['index']['services']}), revérifié sans changement en "
            f"{result['reindex_unchanged_s']} s"
        )
    for kind, f in result["search"].items():
        print(
            f"   search {kind:<16} n={f['n']:<4} p50 {f['p50_ms']:7.2f} ms   p95 {f['p95_ms']:7.2f} ms   max {f['max_ms']:7.2f} ms"
        )
    w, r = result["search_with_words"], result["raw_fulltext"]
    print(
        f"   avec des mots : search p50 {w['p50_ms']:.2f} / p95 {w['p95_ms']:.2f} ms ; requête plein texte brute "
        f"p50 {r['p50_ms']:.2f} / p95 {r['p95_ms']:.2f} ms ; rapport p95 {result['ratio_p95']}× (p50 {result['ratio_p50']}×)"
    )
    verdict = "atteinte" if result["meets_target"] else "NON atteinte"
    print(f"   cible (p95 < {TARGET_P95_MS:.0f} ms et ≤ {TARGET_RATIO:.0f}× la requête brute) : {verdict}")


def run(options: Options | None = None) -> dict[str, Any]:
    options = options or Options()
    url = options.database_url or os.environ.get("BENCH_DATABASE_URL", "")
    print(
        f"== directory_search : {options.structures} structures, {options.services} services, {options.queries} requêtes"
    )
    with tempfile.TemporaryDirectory(prefix="maillage-search-") as tmp:
        workdir = Path(options.keep or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        if url.startswith(("postgres://", "postgresql://")):
            name = "maillage_bench_search_kept" if options.keep else f"maillage_bench_search_{os.getpid()}"
            with pg_database(url, name, keep=bool(options.keep)) as database_url:
                result = asyncio.run(_measure(options, database_url, workdir))
        else:
            result = asyncio.run(_measure(options, f"sqlite:///{workdir / 'search.sqlite3'}", workdir))
    print_result(result)
    path = write_result(
        f"directory_search-{result['engine']}",
        {"options": dataclasses.asdict(options) | {"database_url": ""}, **result},
    )
    print(f"   résultats : {path.relative_to(path.parents[2])}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.directory_search", description=__doc__.splitlines()[0])
    parser.add_argument("--structures", type=int, default=20_000)
    parser.add_argument("--services", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--strict", action="store_true", help="code de sortie 2 si la cible n'est pas atteinte")
    parser.add_argument(
        "--keep",
        default="",
        help="dossier où garder la base SQLite (et garder la base PostgreSQL maillage_bench_search_kept), "
        "pour mesurer à nouveau sans reconstruire",
    )
    args = parser.parse_args(argv)
    if (
        not 1 <= args.structures <= 200_000
        or not args.structures <= args.services <= 1_000_000
        or not 10 <= args.queries <= 5000
    ):
        parser.error("bornes : --structures 1..200000, --services structures..1000000, --queries 10..5000")
    result = run(Options(structures=args.structures, services=args.services, queries=args.queries, keep=args.keep))
    return 2 if args.strict and not result["meets_target"] else 0


if __name__ == "__main__":
    sys.exit(main())
