"""Import and export of a département's directory: a synthetic data·inclusion file, against floors.

`python -m bench.directory_exchange [--structures N] [--services N]` (default 20,000 / 100,000).
Set BENCH_DATABASE_URL=postgresql://… to measure PostgreSQL too (a throwaway database is created next to the one
named, and dropped afterwards); SQLite (a file in a temporary folder) is always measured.

Per engine, on a freshly migrated database:
- import of the file, all rows new (validation, upsert, duplicate detection, search tags and index, journal);
  on SQLite, another process's writer meanwhile: how long the import keeps it waiting;
- re-import of the same file, all rows unchanged;
- export as data·inclusion JSON and CSV (each row validated by the package before it is written).
Floors, measured in the same run:
- import floor: json.load + the bare pydantic validation of the same rows, plus a raw executemany of the same
  rows (structures, services, places) in one transaction: what any importer has to do;
- export floor: one SELECT of every active structure and service, each row json.dumps'ed to a file.
Targets (issue 3): import under 90 s, export under 30 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import io
import json
import os
import random
import sqlite3
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import percentile, pg_database, write_result

IMPORT_TARGET_S = 90.0
EXPORT_TARGET_S = 30.0

KINDS = [
    ("Centre social", "fcsf"),
    ("CCAS", "ccas-cias"),
    ("France Services", "france-service"),
    ("Médiathèque", "communes"),
    ("Espace public numérique", "espaces-publics-numeriques"),
    ("Maison des solidarités", "maisons-des-solidarites"),
    ("Mission locale", "mission-locale"),
    ("Association", ""),
    ("Point information médiation", "pimms-mediation"),
    ("Épicerie sociale", "banques-alimentaires"),
]
PEOPLE = (
    "Louise Michel, Jean Jaurès, Simone Veil, Victor Hugo, Marie Curie, Jean Moulin, Olympe de Gouges, Pablo Neruda, "
    "George Sand, Romain Rolland, Aimé Césaire, Lucie Aubrac, Nelson Mandela, Jacques Prévert, Colette, Molière, "
    "Gisèle Halimi, Rosa Parks, Louis Pasteur, Jules Ferry, Frida Kahlo, Albert Camus, Joséphine Baker, Paul Éluard"
).split(", ")
PLACES = (
    "des Tilleuls, de l'Argonne, des Blossières, de la Source, du Bourg, des Acacias, du Moulin, de la Gare, "
    "des Champs, du Lac, de la Forêt, des Vignes, du Château, de la Croix, des Prés, du Port, des Sablons, des Halles"
).split(", ")
STREETS = "rue, avenue, place, boulevard, allée, chemin, impasse, quai".split(", ")
SERVICES = [
    ("Aide aux démarches en ligne", "accompagnement", ["numerique--acceder-a-des-services-en-ligne"]),
    ("Atelier premiers pas numériques", "atelier", ["numerique--maitriser-les-fondamentaux-du-numerique"]),
    ("Accès libre à internet", "aide-materielle", ["numerique--acceder-a-une-connexion-internet"]),
    ("Ordinateurs solidaires", "aide-materielle", ["numerique--acquerir-un-equipement"]),
    ("Accès aux droits", "accompagnement", ["difficultes-administratives-ou-juridiques--accompagnement-pour-lacces-aux-droits"]),
    ("Permanence CAF", "information", ["difficultes-administratives-ou-juridiques--accompagnement-aux-demarches-administratives"]),
    ("Conseil budgétaire", "accompagnement", ["difficultes-financieres--ameliorer-sa-gestion-budgetaire"]),
    ("Aide alimentaire", "aide-materielle", ["equipement-et-alimentation--alimentation"]),
    ("Soutien à la parentalité", "atelier", ["famille--soutien-a-la-parentalite-et-a-leducation"]),
    ("Recherche d'emploi", "accompagnement", ["preparer-sa-candidature--realiser-un-cv-et-ou-une-lettre-de-motivation"]),
]  # fmt: skip
HOURS = ["Mo-Fr 09:00-12:00,14:00-17:30; PH off", "Tu-Sa 10:00-18:00", "Mo,We,Fr 08:30-12:30", "We 14:00-17:00"]
PUBLICS = [["tous-publics"], ["seniors"], ["jeunes"], ["familles", "femmes"], ["beneficiaires-des-minimas-sociaux"]]


@dataclasses.dataclass
class Options:
    structures: int = 20_000
    services: int = 100_000
    communes: int = 330  # a département's worth
    seed: int = 45


def _siret(rng: random.Random) -> str:
    """14 digits with a valid Luhn key."""
    body = [rng.randint(0, 9) for _ in range(13)]
    for key in range(10):
        digits = [*body, key]
        total = sum(d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(reversed(digits)))
        if total % 10 == 0:
            return "".join(map(str, digits))
    raise AssertionError("unreachable")


def generate(path: Path, options: Options) -> dict[str, int]:
    """A data·inclusion v1 export {"structures": […], "services": […]} of a made-up département (45)."""
    rng = random.Random(options.seed)
    today = date.today()
    communes = [
        (f"Commune {n:03d}", f"45{n:03d}", f"45{rng.randint(0, 9)}{n % 10}0") for n in range(1, options.communes + 1)
    ]
    structures, services = [], []
    for n in range(options.structures):
        commune, insee, postcode = rng.choice(communes)
        kind, network = rng.choice(KINDS)
        name = f"{kind} {rng.choice(PEOPLE)} {rng.choice(PLACES)}"  # a few near-twins per commune, as in life
        structures.append(
            {
                "source": "bench",
                "id": f"bench--s{n}",
                "nom": name,
                "date_maj": (today - timedelta(days=rng.randint(0, 700))).isoformat(),
                "siret": _siret(rng),
                "adresse": f"{rng.randint(1, 120)} {rng.choice(STREETS)} {rng.choice(PEOPLE)}",
                "code_postal": postcode,
                "commune": commune,
                "code_insee": insee,
                "latitude": round(47.5 + rng.random(), 5),
                "longitude": round(1.5 + rng.random(), 5),
                "telephone": f"+3323800{n:04d}"[:12],
                "courriel": f"accueil.s{n}@example.org",
                "horaires_accueil": rng.choice(HOURS),
                "reseaux_porteurs": [network] if network else [],
                "description": f"{name} : accueil, orientation et accompagnement des habitants de {commune}.",
            }
        )
    per_structure = max(1, options.services // max(1, options.structures))
    for n in range(options.services):
        owner = min(n // per_structure, options.structures - 1)
        title, kind, thematiques = SERVICES[n % len(SERVICES)]
        service: dict[str, Any] = {
            "source": "bench",
            "structure_id": f"bench--s{owner}",
            "id": f"bench--v{n}",
            "nom": title,
            "description": f"{title} proposé par {structures[owner]['nom']}, sur rendez-vous ou en accès libre.",
            "date_maj": structures[owner]["date_maj"],
            "type": kind,
            "thematiques": thematiques,
            "frais": rng.choice(["gratuit", "gratuit", "payant"]),
            "publics": rng.choice(PUBLICS),
            "modes_accueil": ["en-presentiel"],
            "modes_mobilisation": ["se-presenter", "envoyer-un-courriel"],
            "mobilisable_par": ["professionnels", "usagers"],
            "courriel": f"orientation.v{n}@example.org",
            "zone_eligibilite": [structures[owner]["code_insee"]],
            "horaires_accueil": rng.choice(HOURS),
        }
        if n % 5 == 4:  # one service in five is delivered elsewhere (a permanence)
            service.update(adresse=f"Salle des fêtes, {rng.randint(1, 50)} place du Marché", code_postal="45000",
                           commune="Commune 001", code_insee="45001", latitude=47.9, longitude=1.9)  # fmt: skip
        services.append(service)
    with path.open("w", encoding="utf-8") as handle:
        json.dump({"structures": structures, "services": services}, handle, ensure_ascii=False)
    return {"structures": len(structures), "services": len(services), "bytes": path.stat().st_size}


# ---------------------------------------------------------------- floors
def _validation_floor(path: Path) -> float:
    from data_inclusion.schema import v1 as di

    started = time.perf_counter()
    with path.open(encoding="utf-8") as handle:
        document = json.load(handle)
    for row in document["structures"]:
        di.Structure.model_validate(row)
    for row in document["services"]:
        di.Service.model_validate(row)
    return time.perf_counter() - started


async def _insert_floor(path: Path) -> float:
    """A raw executemany of the same rows and columns in one transaction (then removed, untimed)."""
    from hub.db import current_engine, write_transaction
    from network.tables import Place, Service, Structure

    with path.open(encoding="utf-8") as handle:
        document = json.load(handle)
    now = datetime.now(UTC)
    sqlite = "sqlite" in type(current_engine()).__name__.lower()

    def sql(table: str, columns: list[str]) -> str:
        marks = ["?"] * len(columns) if sqlite else [f"${i}" for i in range(1, len(columns) + 1)]
        return f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({", ".join(marks)})'

    s_columns = ["name", "siret", "address", "postal_code", "commune", "insee_code", "latitude", "longitude", "phone",
                 "email", "opening_hours", "networks", "description", "confirmed_on", "kind", "source", "source_id",
                 "status", "created_at", "updated_at"]  # fmt: skip
    v_columns = ["name", "description", "types", "thematiques", "publics", "fees", "reception_modes",
                 "mobilisation_modes", "mobilisable_by", "eligibility_zone", "referral_email", "accepts_referrals",
                 "opening_hours", "updated_on", "structure", "source", "source_id", "created_at", "updated_at"]  # fmt: skip
    started = time.perf_counter()
    async with write_transaction() as transaction:
        rows = [
            (r["nom"], r["siret"], r["adresse"], r["code_postal"], r["commune"], r["code_insee"], r["latitude"],
             r["longitude"], r["telephone"], r["courriel"], r["horaires_accueil"], json.dumps(r["reseaux_porteurs"]),
             r["description"], date.fromisoformat(r["date_maj"]), "AUTRE", "floor", r["id"][7:], "active", now, now)
            for r in document["structures"]
        ]  # fmt: skip
        await transaction.connection.executemany(sql("network_structure", s_columns), rows)
        ids = {
            r["source_id"]: r["id"]
            for r in await Structure.select(Structure.id, Structure.source_id).where(Structure.source == "floor")
        }
        rows = [
            (r["nom"], r["description"], json.dumps([r["type"]]), json.dumps(r["thematiques"]), json.dumps(r["publics"]),
             json.dumps([r["frais"]]), json.dumps(r["modes_accueil"]), json.dumps(r["modes_mobilisation"]),
             json.dumps(r["mobilisable_par"]), json.dumps(r["zone_eligibilite"]), r["courriel"], True,
             r["horaires_accueil"], date.fromisoformat(r["date_maj"]), ids[r["structure_id"][7:]], "floor",
             r["id"][7:], now, now)
            for r in document["services"]
        ]  # fmt: skip
        await transaction.connection.executemany(sql("network_service", v_columns), rows)
        service_ids = {
            r["source_id"]: r["id"]
            for r in await Service.select(Service.id, Service.source_id).where(Service.source == "floor")
        }
        places = [
            (service_ids[r["id"][7:]], r["adresse"], r["code_postal"], r["commune"], r["code_insee"], r["latitude"],
             r["longitude"])
            for r in document["services"] if "adresse" in r
        ]  # fmt: skip
        place_columns = ["service", "address", "postal_code", "commune", "insee_code", "latitude", "longitude"]
        await transaction.connection.executemany(sql("network_place", place_columns), places)
    elapsed = time.perf_counter() - started
    async with write_transaction():  # a fresh database: the floor's rows are the only ones
        await Place.delete(force=True)
        await Service.delete(force=True)
        await Structure.delete(force=True)
    return elapsed


async def _export_floor(out: Path) -> float:
    from network.tables import Service, Structure

    started = time.perf_counter()
    with out.open("w", encoding="utf-8") as handle:
        for row in await Structure.select().where(Structure.status == "active"):
            handle.write(json.dumps(row, default=str, ensure_ascii=False) + "\n")
        for row in await Service.select().where(Service.is_active == True):  # noqa: E712 (Piccolo SQL)
            handle.write(json.dumps(row, default=str, ensure_ascii=False) + "\n")
    return time.perf_counter() - started


class _OtherWriter:
    """SQLite only: another process's writer during the import (a manager confirming their entry), in a thread
    with its own sqlite3 connection: a one-row write transaction every 200 ms, timed from BEGIN IMMEDIATE to
    COMMIT (the app's busy timeout is 10 s). It shows how long the import keeps other writers out."""

    def __init__(self, path: Path | None) -> None:
        self.path, self.waits, self.failures = path, [], 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _OtherWriter:
        if self.path is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self.path is not None:
            self._thread.join()

    def _run(self) -> None:
        connection = sqlite3.connect(str(self.path), timeout=10.0, isolation_level=None)
        connection.execute("CREATE TABLE IF NOT EXISTS bench_other_writer (at REAL)")
        while not self._stop.wait(0.2):
            started = time.perf_counter()
            try:
                connection.execute("BEGIN IMMEDIATE")
                connection.execute("INSERT INTO bench_other_writer VALUES (?)", (started,))
                connection.execute("COMMIT")
                self.waits.append(time.perf_counter() - started)
            except sqlite3.OperationalError:
                self.failures += 1
        connection.close()

    def figures(self) -> dict[str, Any] | None:
        if self.path is None or not self.waits:
            return None
        return {"writes": len(self.waits), "failed": self.failures, "max_s": round(max(self.waits), 2),
                "p95_s": round(percentile(self.waits, 95), 3)}  # fmt: skip


# ---------------------------------------------------------------- one engine
async def measure(engine_name: str, database_url: str, workdir: Path, data: Path) -> dict[str, Any]:
    from hub import db
    from hub.composition import MODULES
    from hub.runtime import Runtime
    from hub.settings import Settings
    from network.exchange import export, importing

    settings = Settings.from_env(
        {"MAILLAGE_VAR_DIR": str(workdir / "var"), "MAILLAGE_SECRET_KEY": "bench-" + "x" * 40},
        database_url=database_url,
        env="development",
    )
    engine = db.make_engine(settings)
    with contextlib.redirect_stdout(io.StringIO()):  # Piccolo's migration chatter
        await db.migrate(engine)
    await db.start(engine)
    rt = Runtime(settings, MODULES)
    figures: dict[str, Any] = {"engine": engine_name}
    try:
        figures["floor_validation_s"] = _validation_floor(data)
        figures["floor_insert_s"] = await _insert_floor(data)
        figures["floor_import_s"] = figures["floor_validation_s"] + figures["floor_insert_s"]

        started = time.perf_counter()
        with _OtherWriter(settings.sqlite_path if engine_name == "sqlite" else None) as other:
            report = await importing.import_paths(rt, [data], "datainclusion")
        figures["import_s"] = time.perf_counter() - started
        figures["other_writer"] = other.figures()
        figures["import_phases_s"] = {name: round(seconds, 2) for name, seconds in report.timings.items()}
        figures["import_counts"] = {k: dict(report.counts(k)) for k in ("structure", "service")}
        figures["duplicates_flagged"] = report.duplicates_flagged

        started = time.perf_counter()
        again = await importing.import_paths(rt, [data], "datainclusion")
        figures["reimport_s"] = time.perf_counter() - started
        figures["reimport_counts"] = {k: dict(again.counts(k)) for k in ("structure", "service")}

        figures["floor_export_s"] = await _export_floor(workdir / f"floor-{engine_name}.jsonl")
        for fmt, name in (("datainclusion-json", "export.json"), ("datainclusion-csv", "export.csv")):
            started = time.perf_counter()
            exported = await export.export_directory(rt, fmt, workdir / f"{engine_name}-{name}")
            figures[f"export_{fmt.split('-')[1]}_s"] = time.perf_counter() - started
            figures[f"export_{fmt.split('-')[1]}_rows"] = exported.structures + exported.services
    finally:
        await db.stop(engine)
    figures["ratio_import"] = figures["import_s"] / figures["floor_import_s"]
    without_search = figures["import_s"] - figures["import_phases_s"].get("search_index", 0.0)
    figures["ratio_import_without_search"] = without_search / figures["floor_import_s"]
    figures["ratio_export_json"] = figures["export_json_s"] / figures["floor_export_s"]
    figures["ratio_export_csv"] = figures["export_csv_s"] / figures["floor_export_s"]
    figures["meets_target"] = (
        figures["import_s"] < IMPORT_TARGET_S
        and max(figures["export_json_s"], figures["export_csv_s"]) < EXPORT_TARGET_S
    )
    return figures


def print_engine(f: dict[str, Any]) -> None:
    print(f"\n  [{f['engine']}]")
    print(f"  plancher import (json.load + pydantic)   {f['floor_validation_s']:8.1f} s")
    print(f"  plancher import (executemany brut)       {f['floor_insert_s']:8.1f} s")
    labels = {"validation": "lecture et validation", "writing": "écriture", "duplicates": "doublons",
              "search_index": "index de recherche"}  # fmt: skip
    phases = ", ".join(f"{labels.get(k, k)} {v:.1f} s" for k, v in f["import_phases_s"].items())
    print(f"  import (tout créé)                       {f['import_s']:8.1f} s  ({phases})")
    print(
        f"    ratio import / plancher = {f['ratio_import']:.2f} (hors index de recherche : "
        f"{f['ratio_import_without_search']:.2f}) ; doublons signalés : {f['duplicates_flagged']}"
    )
    if other := f.get("other_writer"):
        print(
            f"    autre écrivain pendant l'import : {other['writes']} écritures, attente max {other['max_s']:.2f} s,"
            f" p95 {other['p95_s'] * 1000:.0f} ms, {other['failed']} abandonnée(s) (délai 10 s)"
        )
    print(f"  ré-import (tout inchangé)                {f['reimport_s']:8.1f} s")
    print(f"  plancher export (SELECT + json.dumps)    {f['floor_export_s']:8.1f} s")
    print(
        f"  export data·inclusion JSON               {f['export_json_s']:8.1f} s  (ratio {f['ratio_export_json']:.2f})"
    )
    print(f"  export data·inclusion CSV                {f['export_csv_s']:8.1f} s  (ratio {f['ratio_export_csv']:.2f})")
    verdict = "atteintes" if f["meets_target"] else "NON ATTEINTES"
    print(f"  cibles (import < {IMPORT_TARGET_S:.0f} s, export < {EXPORT_TARGET_S:.0f} s) : {verdict}")


def run(options: Options | None = None) -> dict[str, Any]:
    options = options or Options()
    print(
        f"== directory_exchange : import et export de {options.structures} structures et "
        f"{options.services} services (data·inclusion v1)"
    )
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="maillage-bench-exchange-") as tmp:
        workdir = Path(tmp)
        data = workdir / "departement.json"
        started = time.perf_counter()
        generated = generate(data, options)
        print(f"  fichier généré : {generated['bytes'] / 1e6:.1f} Mo en {time.perf_counter() - started:.1f} s")
        engines = [("sqlite", f"sqlite:///{workdir / 'bench.sqlite3'}")]
        pg_base = os.environ.get("BENCH_DATABASE_URL", "")
        for name, url in engines + ([("postgresql", pg_base)] if pg_base else []):
            if name == "postgresql":
                with pg_database(pg_base, f"maillage_bench_exchange_{os.getpid()}") as url:
                    result = asyncio.run(measure(name, url, workdir, data))
            else:
                result = asyncio.run(measure(name, url, workdir, data))
            print_engine(result)
            results.append(result)
    document = {"options": dataclasses.asdict(options), "generated": generated, "engines": results}
    path = write_result("directory_exchange", document)
    print(f"\n  résultats : {path}")
    return {"meets_target": all(r["meets_target"] for r in results), **document}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.directory_exchange", description=__doc__.split("\n")[0])
    parser.add_argument("--structures", type=int, default=Options.structures)
    parser.add_argument("--services", type=int, default=Options.services)
    parser.add_argument("--strict", action="store_true", help="code de sortie 2 si une cible n'est pas atteinte")
    args = parser.parse_args(argv)
    if not 1 <= args.structures <= 200_000 or not 1 <= args.services <= 1_000_000:
        parser.error("bornes : --structures 1..200000, --services 1..1000000")
    result = run(Options(structures=args.structures, services=args.services))
    return 2 if args.strict and not result["meets_target"] else 0


if __name__ == "__main__":
    sys.exit(main())
