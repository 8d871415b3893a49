"""Importing activities: La Coop de la médiation numérique's export as its users download it (fixtures built here
from the public description of its worksheet: the "Informations export" and "Filtres" blocks, the headers with ’,
the value labels, a workshop's i/N rows), and Maillage's template in CSV and XLSX; valid and broken files, the
report row by row, the dry run, nothing imported on a fatal error, re-importing changes nothing; and proof that
no name nor note of the export is stored anywhere (every table of the database searched); the CLI and the export."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from openpyxl.styles import Font

from hub import accounts
from hub.db import current_engine
from hub.errors import Invalid, NotFound
from hub.runtime import Runtime
from network.activities import figures, imports
from network.activities.tables import Activity, Participant
from tests.conftest import make_person, make_structure, sign_in
from tests.test_cli import maillage

SELF_HEADERS = [
    "Date",
    "Enregistré le",
    "Dernière modification le",
    "Type",
    "Participants",
    "Bénéficiaire",
    "Canaux d’accompagnement",
    "Nom du lieu",
    "Adresse",
    "Commune",
    "Code postal",
    "Code Insee",
    "Durée (min)",
    "Nom de l’atelier",
    "Matériel numérique utilisé",
    "Thématique(s) d’accompagnement",
    "Tags",
    "Nom de la démarche administrative",
    "Niveau d’autonomie (ou de l’atelier)",
    "Bénéficiaire réorienté",
    "Structure de redirection",
    "Commune du bénéficiaire",
    "Code postal du bénéficiaire",
    "Code Insee du bénéficiaire",
    "Genre du bénéficiaire",
    "Tranche d’âge du bénéficiaire",
    "Statut du bénéficiaire",
    "Notes supplémentaires",
    "ID CRA",
]
TEAM_HEADERS = [
    *SELF_HEADERS[:3],
    "Prénom du médiateur",
    "Nom du médiateur",
    "Rôle",
    "ID - Conum",
    *[h for h in SELF_HEADERS[3:-1] if h not in ("Bénéficiaire", "Notes supplémentaires")],
    "Source de la donnée",
    "ID CRA",
]
# What must never reach the database: the person helped, the notes, the mediators (the export's own block too).
SECRETS = ("Gisèle Marchand-Testut", "Marchand-Testut", "surendettement", "Yannick", "Kerbrat", "Ferdinand Lhuillier")
SOCIAL = "Structure d’aide sociale (maison des solidarités, centre social…)"


def person(**values: Any) -> dict[str, Any]:
    return {
        "Date": date(2026, 3, 2),
        "Enregistré le": "02/03/2026 à 10:15",
        "Dernière modification le": "02/03/2026 à 10:15",
        "Type": "Accompagnement individuel",
        "Participants": "1",
        "Bénéficiaire": "Gisèle Marchand-Testut",
        "Canaux d’accompagnement": "Lieu d’activité",
        "Nom du lieu": "EPN de la Roseraie",
        "Commune": "Montclair-sur-Loire",
        "Code postal": "45990",
        "Code Insee": "45999",
        "Durée (min)": 45,
        "Matériel numérique utilisé": "Ordinateur\nTéléphone",
        "Thématique(s) d’accompagnement": "E-mail\nAide aux démarches administratives\nArgent - Impôts",
        "Tags": "Permanence du lundi",
        "Nom de la démarche administrative": "Déclaration de revenus",
        "Niveau d’autonomie (ou de l’atelier)": "2/3",
        "Bénéficiaire réorienté": "Oui",
        "Structure de redirection": SOCIAL,
        "Commune du bénéficiaire": "Montclair-sur-Loire",
        "Code postal du bénéficiaire": "45990",
        "Code Insee du bénéficiaire": "45999",
        "Genre du bénéficiaire": "Féminin",
        "Tranche d’âge du bénéficiaire": "60 - 69 ans",
        "Statut du bénéficiaire": "Retraité",
        "Notes supplémentaires": "Inquiète : dossier de surendettement en cours, rappeler son fils.",
        "Prénom du médiateur": "Yannick",
        "Nom du médiateur": "Kerbrat",
        "Rôle": "Médiateur",
        "ID - Conum": "conum-42",
        "Source de la donnée": "Coop",
        "ID CRA": "cra-0001",
        **values,
    }


def workshop(cra: str, count: int, **values: Any) -> list[dict[str, Any]]:
    ages = ["25 - 39 ans", "40 - 59 ans", "70 ans et plus", "Non communiqué", "18 - 24 ans", "12 - 17 ans"]
    return [
        person(
            **{
                "Type": "Atelier collectif",
                "Participants": f"{i}/{count}",
                "Bénéficiaire": f"Participant {i} Ferdinand Lhuillier",
                "Nom de l’atelier": "Découvrir sa tablette",
                "Durée (min)": 120,
                "Matériel numérique utilisé": "Tablette",
                "Thématique(s) d’accompagnement": "Prendre en main du matériel",
                "Niveau d’autonomie (ou de l’atelier)": "1/3",
                "Bénéficiaire réorienté": "Non",
                "Structure de redirection": "",
                "Tranche d’âge du bénéficiaire": ages[(i - 1) % len(ages)],
                "Genre du bénéficiaire": "Masculin" if i % 2 else "Féminin",
                "ID CRA": cra,
                **values,
            }
        )
        for i in range(1, count + 1)
    ]


VALID_ROWS = [
    person(),
    *workshop("cra-0002", 3),
    person(
        **{
            "ID CRA": "cra-0003",
            "Date": date(2026, 4, 14),
            "Canaux d’accompagnement": "À domicile",
            "Durée (min)": 90,
            "Thématique(s) d’accompagnement": "Navigation sur internet",
            "Niveau d’autonomie (ou de l’atelier)": "",
            "Bénéficiaire réorienté": "Non",
            "Structure de redirection": "",
            "Genre du bénéficiaire": "Non communiqué",
            "Tranche d’âge du bénéficiaire": "Non communiqué",
            "Statut du bénéficiaire": "Non communiqué ou hétérogène",
        }
    ),
]


def coop_xlsx(rows: list[dict[str, Any]], headers: list[str] = SELF_HEADERS, team: bool = False) -> bytes:
    """The worksheet as the Coop's builder lays it out: its two blocks, a blank row, then the table."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Activités"
    sheet.append(["Informations export"])
    sheet["A1"].font = Font(bold=True)
    for label, value in (
        ("Nom", "Kerbrat"),
        ("Prénom", "Yannick"),
        ("Rôle", "Coordinateur" if team else "Médiateur"),
        ("Total", len(rows)),
        ("Date d'export", "15/06/2026"),
        ("Heure d'export", "17:42"),
    ):
        sheet.append([label, value])
    sheet.append([])
    sheet.append(["Filtres"])
    sheet.cell(sheet.max_row, 1).font = Font(bold=True)
    sheet.append(["Période", "01/01/2026 - 15/06/2026"])
    sheet.append(["Type", "Tous"])
    sheet.append([])
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(h, "") for h in headers])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def all_text_in_database() -> str:
    """Every value of every table, as text: where a stored name would show."""
    engine = current_engine()
    if engine.engine_type == "postgres":
        tables = [
            r["tablename"] for r in await Activity.raw("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
    else:
        tables = [r["name"] for r in await Activity.raw("SELECT name FROM sqlite_master WHERE type = 'table'")]
    chunks = []
    for table in tables:
        for row in await Activity.raw(f'SELECT * FROM "{table}"'):  # noqa: S608 (names from the catalogue)
            chunks.append(" ".join(str(v) for v in row.values()))
    return "\n".join(chunks)


async def _structure(rt: Runtime) -> tuple[int, accounts.Actor]:
    epn = await make_structure("Espace public numérique de la Roseraie", "EPN", siret="12345678900012")
    member = await make_person(rt, "mina.mediatrice@epn.example.fr", {epn: ["prescriber"]})
    return epn, await accounts.actor_for_user(member.id)


async def test_a_coop_self_export_imports_and_stores_no_name_nor_note(rt: Runtime) -> None:
    epn, actor = await _structure(rt)
    content = coop_xlsx(VALID_ROWS)
    dry = await imports.import_bytes(rt, content, "export.xlsx", epn, None, dry_run=True, actor=actor)
    assert (dry.fmt, dry.rows_read, dry.activities_new, dry.refused) == ("coop", 5, 3, [])
    assert await Activity.count() == 0  # a dry run writes nothing

    report = await imports.import_bytes(rt, content, "export.xlsx", epn, actor=actor)
    assert (report.activities_new, report.activities_known, report.refused) == (3, 0, [])
    rows = {r["source_id"]: r for r in await Activity.select().output(load_json=True)}
    single = rows["coop:cra-0001"]
    assert (single["kind"], single["day"], single["duration"], single["participants"]) == (
        "individual",
        date(2026, 3, 2),
        45,
        1,
    )
    assert single["thematiques"] == ["email", "procedures"] and single["demarches"] == ["money"]
    assert single["materials"] == ["computer", "phone"] and single["autonomy"] == 2
    assert (single["redirected"], single["redirect_category"]) == (True, "social")
    assert single["demarche_name"] == "Déclaration de revenus" and single["tags"] == ["Permanence du lundi"]
    group = rows["coop:cra-0002"]
    assert (group["kind"], group["participants"], group["workshop_name"], group["autonomy"]) == (
        "workshop",
        3,
        "Découvrir sa tablette",
        1,
    )
    assert rows["coop:cra-0003"]["place_kind"] == "home"
    people = await Participant.select().where(Participant.activity == group["id"]).order_by(Participant.id)
    assert [p["age_band"] for p in people] == ["25-39", "40-59", "70+"]
    first = await Participant.select().where(Participant.activity == single["id"]).first()
    assert (first["age_band"], first["gender"], first["status"], first["commune_insee"]) == (
        "60-69",
        "f",
        "retired",
        "45999",
    )

    stored = await all_text_in_database()
    for secret in SECRETS:
        assert secret not in stored, f"« {secret} » is stored somewhere"

    again = await imports.import_bytes(rt, content, "export.xlsx", epn, actor=actor)  # the same file again
    assert (again.activities_new, again.activities_known) == (0, 3)
    assert await Activity.count() == 3 and await Participant.count() == 5

    found = await figures.structure_figures(rt, [epn], date(2026, 1, 1), date(2026, 6, 30))
    assert (found.activities, found.accompaniments, found.workshop_participants) == (3, 5, 3)


async def test_a_coop_team_export_carries_the_mediators_names_and_none_is_stored(rt: Runtime) -> None:
    epn, actor = await _structure(rt)
    report = await imports.import_bytes(
        rt, coop_xlsx(VALID_ROWS, TEAM_HEADERS, team=True), "equipe.xlsx", epn, actor=actor
    )
    assert (report.activities_new, report.refused) == (3, [])
    stored = await all_text_in_database()
    assert "Yannick" not in stored and "Kerbrat" not in stored and "conum-42" not in stored


async def test_a_broken_coop_export_keeps_the_good_rows_and_says_why_each_other_is_refused(rt: Runtime) -> None:
    epn, actor = await _structure(rt)
    future = rt.today() + timedelta(days=3)
    broken = [
        *VALID_ROWS,
        person(**{"ID CRA": "cra-future", "Date": future}),
        person(**{"ID CRA": "cra-negative", "Durée (min)": -10}),
        person(**{"ID CRA": "cra-absurd", "Durée (min)": 2000}),
        person(**{"ID CRA": "cra-theme", "Thématique(s) d’accompagnement": "Astrologie"}),
        person(**{"ID CRA": "cra-age", "Tranche d’âge du bénéficiaire": "99 ans et plus"}),
        *workshop("cra-six-of-five", 5),
        person(**{"ID CRA": "cra-six-of-five", "Type": "Atelier collectif", "Participants": "6/5"}),
    ]
    report = await imports.import_bytes(rt, coop_xlsx(broken), "export.xlsx", epn, actor=actor)
    assert report.activities_new == 3
    reasons = {row.source_id: " ".join(row.reasons) for row in report.refused}
    assert "futur" in reasons["cra-future"]
    assert "positif" in reasons["cra-negative"]
    assert "2000 minutes" in reasons["cra-absurd"]
    assert "Astrologie" in reasons["cra-theme"]
    assert "99 ans et plus" in reasons["cra-age"]
    assert "6/5" in reasons["cra-six-of-five"]
    lines = {row.source_id: row.line for row in report.refused}
    assert (lines["cra-future"], lines["cra-negative"]) == (19, 20)  # the sheet's own row numbers (headers: row 13)
    assert await Activity.count() == 3


async def test_a_fatal_error_imports_nothing_and_names_the_missing_columns(rt: Runtime) -> None:
    epn, actor = await _structure(rt)
    headers = [h for h in SELF_HEADERS if h not in ("Durée (min)", "ID CRA")]
    no_id = coop_xlsx(VALID_ROWS, headers)
    with pytest.raises(Invalid, match="(?s)Aucune ligne d'en-têtes"):  # without ID CRA: not a Coop table at all
        await imports.import_bytes(rt, no_id, "export.xlsx", epn, "coop", actor=actor)
    no_duration = coop_xlsx(VALID_ROWS, [h for h in SELF_HEADERS if h != "Durée (min)"])
    with pytest.raises(Invalid, match="Colonnes manquantes : « Durée \\(min\\) »"):
        await imports.import_bytes(rt, no_duration, "export.xlsx", epn, actor=actor)
    with pytest.raises(Invalid, match="XLSX lisible"):
        await imports.import_bytes(rt, b"PK\x03\x04 pas un classeur", "export.xlsx", epn, actor=actor)
    with pytest.raises(Invalid, match="colonne « identifiant »"):  # the template asked for, a Coop file given
        await imports.import_bytes(rt, coop_xlsx(VALID_ROWS), "export.xlsx", epn, "template", actor=actor)
    other = await make_structure("Centre social Bel-Air", "CS")
    with pytest.raises(NotFound):  # a structure the importer does not belong to
        await imports.import_bytes(rt, coop_xlsx(VALID_ROWS), "export.xlsx", other, actor=actor)
    assert await Activity.count() == 0


def template_csv(rows: list[dict[str, str]], columns: list[str] | None = None) -> bytes:
    columns = columns or list(imports.TEMPLATE_COLUMNS)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return out.getvalue().encode("utf-8")


ROW = {
    "identifiant": "T-1",
    "date": "02/03/2026",
    "type": "individuel",
    "duree_min": "30",
    "thematiques": "E-mail|diagnostic",
    "tranche_age": "70 ans et plus",
    "connu_par": "Envoyé par un partenaire",
    "premiere_venue": "oui",
    "satisfaction": "4",
}


async def test_the_template_in_csv_valid_and_broken(rt: Runtime) -> None:
    epn, actor = await _structure(rt)
    rows = [
        ROW,
        {**ROW, "identifiant": "T-2", "type": "atelier", "participants": "8", "duree_min": "120", "tranche_age": ""},
        {**ROW, "identifiant": "T-1"},  # the same identifier twice in one file
        {**ROW, "identifiant": "T-3", "siret": "99999999900099"},  # another structure's row
        {**ROW, "identifiant": "T-4", "tranche_age": "vieux"},
        {**ROW, "identifiant": "T-5", "date": "2026-13-45"},
        {**ROW, "identifiant": "T-6", "type": "individuel", "participants": "2"},
        {**ROW, "identifiant": "T-7", "orientation": "99999999999999999999", "satisfaction": "7"},
    ]
    report = await imports.import_bytes(rt, template_csv(rows), "activites.csv", epn, actor=actor)
    assert (report.fmt, report.activities_new) == ("template", 2)
    reasons = {row.line: " ".join(row.reasons) for row in report.refused}
    assert "déjà vu" in reasons[4] and "autre structure" in reasons[5] and "vieux" in reasons[6]
    assert "Date illisible" in reasons[7] and "individuel compte une personne" in reasons[8]
    assert "orientation invalide" in reasons[9] and "de 1 à 5" in reasons[9]
    workshop_row = await Activity.select().where(Activity.source_id == "template:T-2").first()
    assert (workshop_row["kind"], workshop_row["participants"]) == ("workshop", 8)
    assert await Participant.count().where(Participant.activity == workshop_row["id"]) == 8
    first = await Participant.select().where(Participant.channel == "partner").first()
    assert (first["age_band"], first["first_visit"], first["satisfaction"]) == ("70+", True, 4)
    with pytest.raises(Invalid, match="Colonnes manquantes : « duree_min »"):
        await imports.import_bytes(
            rt, template_csv(rows, [c for c in imports.TEMPLATE_COLUMNS if c != "duree_min"]), "a.csv", epn, actor=actor
        )


async def test_the_template_downloaded_filled_and_imported_from_the_page(
    client: httpx.AsyncClient, rt: Runtime
) -> None:
    epn = await make_structure("Espace public numérique de la Roseraie", "EPN", siret="12345678900012")
    member = await make_person(rt, "mina.mediatrice@epn.example.fr", {epn: ["prescriber"]})
    await sign_in(client, member)
    downloaded = await client.get("/activites/modele.xlsx")
    assert downloaded.status_code == 200 and downloaded.headers["content-disposition"].endswith('.xlsx"')
    book = openpyxl.load_workbook(io.BytesIO(downloaded.content))
    assert [c.value for c in book["Activités"][1]] == list(imports.TEMPLATE_COLUMNS)
    assert "Valeurs" in book.sheetnames
    sheet = book["Activités"]
    sheet.append([{**ROW, "identifiant": "X-2", "date": "2026-03-03"}.get(c, "") for c in imports.TEMPLATE_COLUMNS])
    filled = io.BytesIO()
    book.save(filled)
    csv_template = await client.get("/activites/modele.csv")
    assert csv_template.text.lstrip("\ufeff").startswith("identifiant;date;type")
    assert csv_template.headers["content-type"] == "text/csv; charset=utf-8"  # once

    await client.get(f"/activites/{epn}/import")
    form = {"format": "template", "dry_run": "on", "_csrf_token": client.cookies["maillage_csrf"]}
    files = {"file": ("activites.xlsx", filled.getvalue(), "application/octet-stream")}
    dry = await client.post(f"/activites/{epn}/import", data=form, files=files)
    assert dry.status_code == 200 and "Simulation" in dry.text and "Activités à créer : 2." in dry.text
    assert await Activity.count() == 0
    form.pop("dry_run")
    done = await client.post(f"/activites/{epn}/import", data=form, files=files)
    assert "Activités créées : 2." in done.text and await Activity.count() == 2
    broken = await client.post(
        f"/activites/{epn}/import", data=form, files={"file": ("x.csv", b"a;b\n1;2\n", "text/csv")}
    )
    assert broken.status_code == 400 and "Rien n'est importé" in broken.text


async def test_the_command_line_imports_by_siret_and_exports(rt: Runtime, database_url: str, tmp_path: Path) -> None:
    epn, _ = await _structure(rt)
    source = tmp_path / "export-coop.xlsx"
    source.write_bytes(coop_xlsx(VALID_ROWS))
    dry = await asyncio.to_thread(
        maillage,
        "activities",
        "import",
        str(source),
        "--structure",
        "12345678900012",
        "--dry-run",
        database_url=database_url,
        var_dir=tmp_path,
    )
    assert dry.returncode == 0, dry.stderr
    assert "Simulation" in dry.stdout and "Activités à créer : 3." in dry.stdout
    assert await Activity.count() == 0
    done = await asyncio.to_thread(
        maillage,
        "activities",
        "import",
        str(source),
        "--structure",
        str(epn),
        "--format",
        "coop",
        database_url=database_url,
        var_dir=tmp_path,
    )
    assert done.returncode == 0 and "Activités créées : 3." in done.stdout, done.stderr
    missing = await asyncio.to_thread(
        maillage,
        "activities",
        "import",
        str(source),
        "--structure",
        "00000000000000",
        database_url=database_url,
        var_dir=tmp_path,
    )
    assert missing.returncode == 2 and "Aucune structure" in missing.stderr
    out = tmp_path / "activites.xlsx"
    exported = await asyncio.to_thread(
        maillage,
        "activities",
        "export",
        "--from",
        "2026-01-01",
        "--to",
        "2026-06-30",
        "--out",
        str(out),
        database_url=database_url,
        var_dir=tmp_path,
    )
    assert exported.returncode == 0 and "3 activités exportées" in exported.stdout, exported.stderr
    sheet = openpyxl.load_workbook(out)["Activités"]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["structure", "siret", "identifiant"] and sheet.max_row == 4
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert all(isinstance(v, str) or v is None for row in values for v in row)  # every cell written as text
    assert any(row[2] == "coop:cra-0002" and row[header.index("participants")] == "3" for row in values)


async def test_exported_cells_cannot_run_as_formulas(rt: Runtime, tmp_path: Path) -> None:
    epn, actor = await _structure(rt)
    rows = [{**ROW, "identifiant": '=HYPERLINK("http://x")', "nom_demarche": "@SUM(A1)", "date": "2026-03-02"}]
    await imports.import_bytes(rt, template_csv(rows), "a.csv", epn, actor=actor)
    out = tmp_path / "export.xlsx"
    assert await imports.export_xlsx(rt, date(2026, 1, 1), date(2026, 12, 31), out) == 1
    cells = [c.value for c in openpyxl.load_workbook(out)["Activités"][2]]
    assert "'@SUM(A1)" in cells and all(not str(c).startswith(("=", "@")) for c in cells if c)
