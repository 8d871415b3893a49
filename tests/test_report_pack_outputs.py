"""The pack built from a small handmade network: the "< 5" rule and "aucune donnée" in every output, the DOCX
read back with python-docx, the PDF made by the real LibreOffice and looked at as PNG pages, the XLSX opened
with openpyxl (safe cells, one sheet per table, names ≤ 31 characters), the standalone dashboard file."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
from pathlib import Path

import docx
import openpyxl
import pytest

from hub.errors import Invalid
from hub.reporting import Figure, Indicator, Period, Section, Table
from hub.runtime import Runtime
from hub.spreadsheets import safe_cell
from network.meetings import outputs, pack
from tests.test_report_pack_sections import S1, _referral, at, handmade_network

needs_soffice = pytest.mark.skipif(
    shutil.which("soffice") is None and shutil.which("libreoffice") is None,
    reason="LibreOffice absent : scripts/install-libreoffice",
)


def test_the_small_count_rule_and_the_shared_display():
    count = Indicator("x.count", "Compte", "…")
    rate = Indicator("x.rate", "Taux", "…", unit="%", is_count=False)
    shared = pack.Pack(S1, S1.previous(), (), dt.datetime(2026, 7, 1, tzinfo=dt.UTC), shared=True)
    exact = pack.Pack(S1, S1.previous(), (), dt.datetime(2026, 7, 1, tzinfo=dt.UTC), shared=False)
    assert [shared.value(Figure(count, n)) for n in (0, 1, 4, 5, 1234)] == ["0", "< 5", "< 5", "5", "1\u202f234"]
    assert exact.value(Figure(count, 3)) == "3"
    assert shared.value(Figure(rate, 3.0)) == "3\u202f%" and shared.value(Figure(rate, 33.3)) == "33,3\u202f%"
    assert shared.value(Figure(count, None)) == "–"
    assert shared.change(Figure(count, 12, 7)) == "+5" and shared.change(Figure(count, 7, 12)) == "−5"
    assert shared.change(Figure(count, 12, 3)) == "–"  # would reveal the small previous count
    assert exact.change(Figure(count, 12, 3)) == "+9"
    assert shared.change(Figure(rate, 50.0, 100.0)) == "−50\u202f%"
    table = Table("t", "T", ("Nom", "Nombre", "Part"), (("a", 3, 12.5), ("b", 0, 0.0), ("c", 7, 87.5)), count)
    assert [[shared.cell(table, v) for v in row] for row in table.rows] == [
        ["a", "< 5", "12,5"],
        ["b", "0", "0"],
        ["c", "7", "87,5"],
    ]
    drawn = shared.chart_values(table)
    assert drawn.rows[0] == ("a", None, 12.5) and drawn.rows[2] == ("c", 7, 87.5)  # no bar reveals 3


async def test_a_future_period_or_a_period_with_nothing_recorded_is_refused_in_french(rt: Runtime):
    with pytest.raises(Invalid, match="n'a pas commencé"):
        await pack.build(rt, Period.parse(f"{rt.today().year + 1}-S1"))
    with pytest.raises(Invalid, match="Rien n'a été enregistré"):
        await pack.build(rt, Period.parse("2019-S1"))


async def _built(rt: Runtime) -> pack.Pack:
    ids = await handmade_network()
    await _referral(ids["a"], ids["b"], at(2026, 2, 1, 9), "accepted", first_answer_at=at(2026, 2, 1, 11))
    steps: list[tuple[str, float]] = []
    built = await pack.build(rt, S1, progress=lambda step, fraction: steps.append((step, fraction)))
    assert [s.key for s in built.sections][:3] == ["directory", "referrals", "mandates"]
    assert steps and steps[0][1] == 0.0
    return built


async def test_every_module_gives_its_section_in_order_and_empty_ones_say_so(rt: Runtime, tmp_path: Path):
    built = await _built(rt)
    keys = [s.key for s in built.sections]
    assert keys == sorted(keys, key=lambda k: next(s.order for s in built.sections if s.key == k))
    assert {"directory", "referrals", "mandates", "activities", "meetings"} <= set(keys)
    by_key = {s.key: s for s in built.sections}
    assert by_key["mandates"].empty and by_key["activities"].empty and by_key["meetings"].empty
    assert not by_key["directory"].empty
    annex = [i.key for _, i in built.annex]
    assert len(annex) == len(set(annex)) and "directory.members" in annex and "referrals.sent" in annex
    html = outputs.standalone_html(built, outputs.chart_images(built))
    assert html.count("Aucune donnée pour cette période.") == 3  # mandates, activities, meetings
    assert "<script" not in html and "data:image/png;base64," in html
    # one referral A→B in the period: shared as "< 5", never as "1"
    referrals = outputs.dashboard(built)["sections"][1]
    assert ("Orientations envoyées", "< 5", "0", "–") in referrals["figures"]


async def test_the_xlsx_annex_has_one_sheet_per_table_numbers_as_numbers_and_only_safe_text(rt: Runtime):
    await make_formula_named_structure()
    built = await _built(rt)
    book = openpyxl.load_workbook(io.BytesIO(outputs.xlsx_bytes(built)))
    tables = [t for s in built.sections for t in s.tables]
    assert book.sheetnames[0] == "Chiffres clés" and book.sheetnames[-1] == "Définitions"
    assert len(book.sheetnames) == len(tables) + 2
    assert all(len(name) <= 31 for name in book.sheetnames)
    sheets = outputs.sheet_names(built)
    assert all("_" not in name for name in sheets.values())  # French titles, not the tables' keys
    for sheet in book.worksheets:
        assert all(cell.value not in (None, "") for cell in sheet[1]), f"an empty header cell in {sheet.title}"
        for row in sheet.iter_rows():
            for cell in row:
                value = cell.value
                assert value is None or isinstance(value, str | int | float)
                if isinstance(value, str):
                    assert safe_cell(value) == value  # nothing a spreadsheet could run
                    assert not value.replace("\u202f", "").replace(",", "").replace(".", "").isdigit(), (
                        f"a number stored as text in {sheet.title}: {value!r}"
                    )
                elif value is not None:
                    formats = (outputs.INTEGER_FORMAT, outputs.DECIMAL_FORMAT, *outputs.CHANGE_FORMATS.values())
                    assert cell.number_format in formats

    def sheet(section: str, table: str) -> openpyxl.worksheet.worksheet.Worksheet:
        return book[sheets[(section, table)]]

    kinds = sheet("directory", "structures_types")
    assert [c.value for c in kinds[1]] == ["Type", "Structures"]
    assert {r[0]: r[1] for r in kinds.iter_rows(min_row=2, values_only=True)}["Centre social"] == 1  # public
    states = {r[0]: r[1] for r in sheet("referrals", "orientations_etats").iter_rows(min_row=2, values_only=True)}
    assert states["acceptée"] == "< 5" and states["refusée"] == 0  # one referral: an act, hidden
    coordinates = list(sheet("directory", "carte_couverture").iter_rows(min_row=2, values_only=True))
    assert ("Lusignan", 46.435, 0.125, 1, 1) in coordinates
    names = [r[0] for r in sheet("directory", "couverture").iter_rows(min_row=2, values_only=True)]
    assert '\'=HYPERLINK("x")' in names  # the commune typed as a formula stays text
    figures = list(book["Chiffres clés"].iter_rows(values_only=True))
    assert ("Le réseau et son annuaire", "Structures membres", 4, 3, 1, None) in figures  # with the "Piège"
    change = next(r for r in book["Chiffres clés"].iter_rows(min_row=2) if r[1].value == "Structures membres")[4]
    assert change.number_format == "+#,##0;-#,##0;0"  # shown "+1", as the documents say it
    assert any(r[1] == "aucune donnée" for r in figures)  # the empty mandates' section


async def make_formula_named_structure() -> None:
    from tests.conftest import make_structure

    await make_structure(
        "Piège", "ASSO", commune='=HYPERLINK("x")', latitude=47.0, longitude=1.0, created_at=at(2024, 1, 1)
    )


@needs_soffice
async def test_the_docx_and_pdf_read_well_and_are_looked_at_as_pages(rt: Runtime, tmp_path: Path):
    built = await _built(rt)
    paths = await outputs.write_all(rt, built, tmp_path)
    assert {p.suffix for p in paths.values()} == {".docx", ".pdf", ".xlsx", ".html"}
    document = docx.Document(str(paths["docx"]))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Bilan du réseau – 2026-S1" in text and "Sommaire" in text
    assert "Aucune donnée pour cette période." in text
    assert "Annexe : définitions des indicateurs" in text and "Zones blanches" in text
    headings = [p.text for p in document.paragraphs if p.style is not None and p.style.name == "Heading 1"]
    assert headings[0] == "Sommaire" and headings[1] == "1. Le réseau et son annuaire"
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    assert "< 5" in cells and "Structures membres" in cells
    pictures = document.inline_shapes
    assert len(pictures) >= 4  # kinds, thématiques, coverage, map…
    assert all("Graphique" in p._inline.docPr.get("descr") for p in pictures)
    pdf = paths["pdf"].read_bytes()
    assert pdf.startswith(b"%PDF")
    pages = tmp_path / "pages"
    pages.mkdir()
    _poppler("pdftoppm", "-r", "50", "-png", str(paths["pdf"]), str(pages / "p"))
    images = sorted(pages.glob("*.png"))
    assert len(images) >= 3  # looked at: cover and contents, a section per page or so, the annex
    text = _poppler("pdftotext", str(paths["pdf"]), "-")
    assert "Le réseau et son annuaire" in text and "Page" not in text.split("\n")[0]
    assert "{{" not in text and "{%" not in text
    assert (tmp_path / "dashboard.json").exists() and any((tmp_path / "graphiques").glob("*.png"))


def _poppler(tool: str, *args: str) -> str:
    program = shutil.which(tool)
    assert program, f"{tool} absent : scripts/install-libreoffice installe poppler-utils"
    return subprocess.run(  # noqa: S603 (poppler's tools on a file we wrote)
        [program, *args], capture_output=True, text=True, check=True, timeout=120
    ).stdout


def test_an_empty_table_draws_no_chart_and_a_long_one_is_cut_in_documents():
    from network.meetings import charts

    indicator = Indicator("k", "L", "D")
    empty = Table("vide", "Vide", ("Nom", "N"), (("a", 0),), indicator)
    assert not charts.drawable(empty)
    long = Table("long", "Long", ("Nom", "N"), tuple((f"s{i}", i) for i in range(40)), indicator)
    rows = outputs.doc_rows(long)
    assert len(rows) == outputs.DOC_ROWS and rows[0] == ("s39", 39)
    shared = pack.Pack(S1, S1.previous(), (), dt.datetime(2026, 7, 1, tzinfo=dt.UTC))
    assert "25 lignes sur 40" in outputs.doc_note(shared, long, "Long")
    section = Section("s", "S", (Figure(indicator, 0, 0),), (empty,))
    assert section.empty
