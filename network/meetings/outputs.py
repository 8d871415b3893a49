"""The pack's outputs: the DOCX (docxtpl, templates/reports/pack.<version>.docx), its PDF (LibreOffice), the XLSX
annex (one sheet per table, every cell through hub.spreadsheets.safe_cell) and the dashboard's page (the same
figures, each chart as inline SVG, its data table beside it). All four read one `Pack` and its display helpers,
so they say the same thing, and apply the "< 5" rule the same way.

A document's tables print at most DOC_ROWS rows (the largest first when the chart is a bar chart); the XLSX annex
has every row.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import io
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.reporting import Section, Table
from hub.spreadsheets import safe_cell
from network.meetings import charts
from network.meetings.pack import NO_DATA, Pack, day_text, period_text

if TYPE_CHECKING:
    from hub.runtime import Runtime

TEMPLATE_VERSION = "1"
TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates" / "reports"
DOC_ROWS = 25
CHART_WIDTH_CM = 15.5
FORMATS = ("docx", "pdf", "xlsx", "html")
MEDIA_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html",  # Litestar adds the charset of every text type
}
SHARED_NOTE = (
    "Document partagé avec le réseau : les nombres de 1 à 4 sont écrits « < 5 » pour qu'on ne puisse pas "
    "reconnaître une personne ou un petit groupe."
)
Step = Callable[[str, float], Awaitable[None]]


def template_path(version: str = TEMPLATE_VERSION) -> Path:
    return TEMPLATES / f"pack.{version}.docx"


def file_name(pack: Pack, fmt: str) -> str:
    label = pack.period.label if not pack.period.label.startswith("du ") else f"{pack.period.start}_{pack.period.end}"
    return f"bilan-reseau-{label}.{fmt}"


# ---------------------------------------------------------------- the tables as printed
MAP_HIDDEN = ("Latitude", "Longitude")  # the map's coordinates: in the XLSX annex, not in the printed table


def printed(table: Table) -> Table:
    """The table as documents and the dashboard print it (the map's table without its coordinates)."""
    if table.chart != "map":
        return table
    keep = [i for i, c in enumerate(table.columns) if c not in MAP_HIDDEN]
    return dataclasses.replace(
        table,
        columns=tuple(table.columns[i] for i in keep),
        rows=tuple(tuple(row[i] for i in keep) for row in table.rows),
    )


def doc_rows(table: Table) -> tuple[tuple[Any, ...], ...]:
    """The rows a document prints: all of them up to DOC_ROWS, else the largest ones."""
    table = printed(table)
    if len(table.rows) <= DOC_ROWS:
        return table.rows
    columns = charts.numeric_columns(table)
    if table.chart in ("bar", "columns") and columns:
        return tuple(sorted(table.rows, key=lambda r: -sum((r[i] or 0) for i in columns))[:DOC_ROWS])
    return table.rows[:DOC_ROWS]


TOO_SMALL = (
    "Pas de graphique : tous les nombres de ce tableau sont inférieurs à 5, trop petits pour être montrés "
    "sans risquer de reconnaître quelqu'un."
)
EMPTY_HEADER = "Libellé"  # a table whose first column has no name: its header cell still says something


def doc_note(pack: Pack, table: Table, sheet: str = "") -> str:
    """The sentences printed under a table: no chart when every count is hidden, and where the rest of a long
    table is (the annex's sheet)."""
    notes = []
    if chart_hidden(pack, table):
        notes.append(TOO_SMALL)
    if len(table.rows) > DOC_ROWS:
        where = f" (feuille « {sheet} »)" if sheet else ""
        notes.append(f"{DOC_ROWS} lignes sur {len(table.rows)} ; le tableau complet est dans l'annexe XLSX{where}.")
    return " ".join(notes)


def chart_hidden(pack: Pack, table: Table) -> bool:
    """A chart that would draw nothing: every number it would show is hidden by the "< 5" rule (or 0)."""
    if not charts.drawable(table):
        return False
    shown = pack.chart_values(table)
    values = [row[i] for row in shown.rows for i in charts.numeric_columns(table) if i < len(row)]
    return any(v is None for v in values) and all(v is None or v == 0 for v in values)


def header(columns: tuple[str, ...]) -> list[str]:
    """The columns' names, none empty."""
    return [c or (EMPTY_HEADER if n == 0 else f"Colonne {n + 1}") for n, c in enumerate(columns)]


def sheet_name(title: str) -> str:
    """An XLSX sheet's name from a French title: at most 31 characters (cut at a word), none of []:*?/\\."""
    cleaned = " ".join("".join(" " if ch in "[]:*?/\\" else ch for ch in title).split()).strip("'")
    if len(cleaned) > 31:
        words = cleaned[:32].split(" ")[:-1] if " " in cleaned[:32] else [cleaned[:31]]
        while len(words) > 1 and words[-1].casefold().strip(",;:–-") in _DANGLING:
            words.pop()  # "Services par famille de" -> "Services par famille"
        cleaned = " ".join(words).rstrip(" ,;:–-'")
    return cleaned or "Tableau"


_DANGLING = {
    "",
    "de",
    "du",
    "des",
    "d'",
    "la",
    "le",
    "les",
    "l'",
    "à",
    "au",
    "aux",
    "par",
    "et",
    "ou",
    "en",
    "sur",
    "pour",
}


def sheet_names(pack: Pack) -> dict[tuple[str, str], str]:
    """Each table's sheet in the XLSX annex, keyed by (section, table): its title, made unique."""
    used = {SUMMARY_SHEET.casefold(), DEFINITIONS_SHEET.casefold()}
    names = {}
    for section in pack.sections:
        for table in section.tables:
            name = base = sheet_name(table.title)
            n = 2
            while name.casefold() in used:
                suffix = f" ({n})"
                name = base[: 31 - len(suffix)].rstrip() + suffix
                n += 1
            used.add(name.casefold())
            names[(section.key, table.key)] = name
    return names


SUMMARY_SHEET = "Chiffres clés"
DEFINITIONS_SHEET = "Définitions"


def chart_images(pack: Pack, fmt: str = "png") -> dict[tuple[str, str], bytes]:
    """Each drawable table's chart, keyed by (section, table), with the "< 5" rule applied to what it draws."""
    images = {}
    for section in pack.sections:
        if section.empty:
            continue
        for table in section.tables:
            shown = pack.chart_values(table)
            if charts.drawable(table) and not chart_hidden(pack, table):
                images[(section.key, table.key)] = charts.render(shown, fmt)
    return images


# ---------------------------------------------------------------- DOCX and PDF
def _section_context(pack: Pack, number: int, section: Section, image: Callable[[str, str], Any]) -> dict[str, Any]:
    sheets = sheet_names(pack)
    return {
        "number": number,
        "title": section.title,
        "empty": section.empty,
        "figures": [
            {
                "label": f.indicator.label,
                "value": pack.value(f),
                "previous": pack.value(f, previous=True),
                "change": pack.change(f),
            }
            for f in section.figures
        ],
        "tables": [
            {
                "title": table.title,
                "empty": table.empty,
                "image": image(section.key, table.key),
                "note": doc_note(pack, table, sheets[(section.key, table.key)]),
                "columns": header(printed(table).columns),
                "rows": [[pack.cell(table, v) for v in row] for row in doc_rows(table)],
            }
            for table in section.tables
        ],
        "notes": list(section.notes),
    }


def context(pack: Pack, image: Callable[[str, str], Any]) -> dict[str, Any]:
    return {
        "title": pack.title,
        "period_label": pack.period.label if not pack.period.label.startswith("du ") else "Période",
        "previous_label": pack.previous.label if not pack.previous.label.startswith("du ") else "Période précédente",
        "period_text": period_text(pack.period),
        "previous_text": period_text(pack.previous),
        "built": day_text(pack.built_at.date()),
        "shared_note": SHARED_NOTE if pack.shared else "Document de la coordination : nombres exacts.",
        "sections": [_section_context(pack, n, s, image) for n, s in enumerate(pack.sections, start=1)],
        "annex": [{"label": i.label, "definition": i.definition, "section": title} for title, i in pack.annex],
    }


def docx_bytes(pack: Pack, images: dict[tuple[str, str], bytes] | None = None) -> bytes:
    """The pack as a Word document from its template; charts as images with their alternative text."""
    import jinja2
    from docx.shared import Cm
    from docxtpl import DocxTemplate, InlineImage

    images = chart_images(pack) if images is None else images
    document = DocxTemplate(str(template_path()))

    def image(section: str, table: str) -> Any:
        png = images.get((section, table))
        return InlineImage(document, io.BytesIO(png), width=Cm(CHART_WIDTH_CM)) if png else None

    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    document.render(context(pack, image), jinja_env=environment)
    titles = iter(
        charts.title_of(t) for s in pack.sections if not s.empty for t in s.tables if (s.key, t.key) in images
    )
    for number, properties in enumerate(document.docx.element.body.xpath(".//wp:docPr"), start=1):
        properties.set("descr", f"Graphique : {next(titles, '')}. Les chiffres sont dans le tableau qui suit.")
        properties.set("id", str(number))
    _column_widths(document.docx)
    props = document.docx.core_properties
    props.title = pack.title
    props.language = "fr-FR"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


TEXT_WIDTH_CM = 16.9  # A4 less the template's margins


def _column_widths(document: Any) -> None:
    """The data tables' first column (names) wider than the numbers' (docxtpl's column loops share the width
    out equally); the figures' tables keep the template's widths."""
    from docx.oxml.ns import qn
    from docx.shared import Cm

    for table in document.tables:
        grid = table._tbl.tblGrid
        columns = grid.findall(qn("w:gridCol"))
        if len(columns) < 2 or table.rows[0].cells[0].text == "Indicateur":
            continue
        first = min(7.0, TEXT_WIDTH_CM * (0.45 if len(columns) <= 5 else 0.25))
        rest = (TEXT_WIDTH_CM - first) / (len(columns) - 1)
        widths = [Cm(first)] + [Cm(rest)] * (len(columns) - 1)
        for column, width in zip(columns, widths, strict=True):
            column.set(qn("w:w"), str(int(width.twips)))
        for row in table.rows:
            for cell, width in zip(row.cells, widths, strict=False):
                cell.width = width


async def pdf_bytes(rt: Runtime, docx: bytes) -> bytes:
    return await rt.documents.to_pdf(docx)


# ---------------------------------------------------------------- XLSX
INTEGER_FORMAT = "#,##0"  # shown "1 108" by a French spreadsheet
DECIMAL_FORMAT = "#,##0.0####"  # "47,91045", "12,5"
CHANGE_FORMATS = {INTEGER_FORMAT: "+#,##0;-#,##0;0", DECIMAL_FORMAT: "+#,##0.0####;-#,##0.0####;0"}


def xlsx_bytes(pack: Pack) -> bytes:
    """The annex: a sheet of the figures, one sheet per table, the definitions. Numbers are numbers (a French
    spreadsheet writes them its way); a count hidden by the "< 5" rule, and any text, is a safe string."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook(write_only=False)
    summary = book.active
    assert summary is not None
    summary.title = SUMMARY_SHEET
    bold = Font(bold=True)

    def put(sheet: Any, rows: list[list[Any]]) -> None:
        for row in rows:
            sheet.append([_xlsx_cell(v) for v in row])
        for cell in sheet[1]:
            cell.font = bold
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, bool) or not isinstance(cell.value, int | float):
                    continue
                cell.number_format = INTEGER_FORMAT if float(cell.value).is_integer() else DECIMAL_FORMAT
        sheet.freeze_panes = "A2"
        for column in sheet.columns:
            width = max((len(_shown(c.value)) for c in column), default=8)
            sheet.column_dimensions[column[0].column_letter].width = min(max(width + 2, 10), 60)

    rows: list[list[Any]] = [["Partie", "Indicateur", pack.period.label, pack.previous.label, "Évolution", "Unité"]]
    for section in pack.sections:
        if section.empty:
            rows.append([section.title, NO_DATA, "", "", "", ""])
            continue
        for f in section.figures:
            rows.append(
                [
                    section.title,
                    f.indicator.label,
                    pack.figure_value(f),
                    pack.figure_value(f, previous=True),
                    pack.figure_change(f),
                    f.indicator.unit,
                ]
            )
    put(summary, rows)
    for (change,) in summary.iter_rows(min_row=2, min_col=5, max_col=5):  # "Évolution": signed, as the documents
        if isinstance(change.value, int | float):
            change.number_format = CHANGE_FORMATS[change.number_format]
    sheets = sheet_names(pack)
    for section in pack.sections:
        for table in section.tables:
            sheet = book.create_sheet(sheets[(section.key, table.key)])
            body = [[pack.cell_value(table, v) for v in row] for row in table.rows] or [[NO_DATA]]
            put(sheet, [header(table.columns), *body])
    definitions = book.create_sheet(DEFINITIONS_SHEET)
    put(
        definitions,
        [["Partie", "Indicateur", "Définition", "Unité"]]
        + [[title, i.label, i.definition, i.unit] for title, i in pack.annex],
    )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_cell(value: Any) -> Any:
    """A number as it is; anything else a string neutralised against formula injection (hub.spreadsheets)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return safe_cell(value)


def _shown(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:,.5g}"
    return str(value or "")


# ---------------------------------------------------------------- the dashboard's view of the pack
def dashboard(pack: Pack) -> dict[str, Any]:
    """What the dashboard page (and its standalone HTML file) shows: the same figures and tables as the DOCX."""
    sections = []
    sheets = sheet_names(pack)
    for number, section in enumerate(pack.sections, start=1):
        tables = [
            {
                "key": table.key,
                "title": table.title,
                "empty": table.empty,
                "columns": header(printed(table).columns),
                "rows": [[pack.cell(table, v) for v in row] for row in doc_rows(table)],
                "note": doc_note(pack, table, sheets[(section.key, table.key)]),
            }
            for table in section.tables
        ]
        sections.append(
            {
                "number": number,
                "key": section.key,
                "title": section.title,
                "empty": section.empty,
                "figures": [
                    (f.indicator.label, pack.value(f), pack.value(f, previous=True), pack.change(f))
                    for f in section.figures
                ],
                "tables": tables,
                "notes": section.notes,
            }
        )
    return {
        "title": pack.title,
        "period": pack.period,
        "period_text": period_text(pack.period),
        "previous_text": period_text(pack.previous),
        "sections": sections,
        "annex": pack.annex,
        "shared_note": SHARED_NOTE if pack.shared else "",
    }


def chart_file(section: str, table: str) -> str:
    return f"{section}--{table}.png"


def render_page(template: str, **values: Any) -> str:
    from hub.web import template_environment

    return template_environment().get_template(template).render(**values)


def standalone_html(pack: Pack, png: dict[tuple[str, str], bytes]) -> str:
    """The dashboard as one HTML file to send or archive: charts embedded as data: images, no script."""
    images = {f"{s}/{t}": "data:image/png;base64," + base64.b64encode(data).decode() for (s, t), data in png.items()}
    return render_page("pack/standalone.html", d=dashboard(pack), images=images)


def _charts_and_docx(pack: Pack, out_dir: Path) -> tuple[dict[tuple[str, str], bytes], bytes]:
    out_dir.mkdir(parents=True, exist_ok=True)
    png = chart_images(pack, "png")
    charts_dir = out_dir / "graphiques"
    charts_dir.mkdir(exist_ok=True)
    for (section, table), data in png.items():
        (charts_dir / chart_file(section, table)).write_bytes(data)
    document = docx_bytes(pack, png)
    (out_dir / file_name(pack, "docx")).write_bytes(document)
    return png, document


def _annex_and_page(pack: Pack, out_dir: Path, png: dict[tuple[str, str], bytes]) -> None:
    (out_dir / file_name(pack, "xlsx")).write_bytes(xlsx_bytes(pack))
    (out_dir / file_name(pack, "html")).write_text(standalone_html(pack, png), encoding="utf-8")
    view = dashboard(pack)
    view["period"] = {"label": pack.period.label}
    view["annex"] = [(title, dataclasses.asdict(i)) for title, i in pack.annex]
    view["charts"] = {f"{s}/{t}": chart_file(s, t) for (s, t) in png}
    view["files"] = {fmt: file_name(pack, fmt) for fmt in FORMATS}
    (out_dir / "dashboard.json").write_text(json.dumps(view, ensure_ascii=False), encoding="utf-8")


async def write_all(rt: Runtime, pack: Pack, out_dir: Path, step: Step | None = None) -> dict[str, Path]:
    """The four outputs into out_dir (DOCX, PDF, XLSX, the dashboard as HTML), each chart as a PNG file (the
    dashboard page serves them), and dashboard.json (what the page shows, without recomputing).
    The drawing and writing run in a worker thread: the event loop (pages, the jobs loop) keeps answering."""

    async def tell(text: str, fraction: float) -> None:
        if step is not None:
            await step(text, fraction)

    await tell("Graphiques et document Word", 0.3)
    png, document = await asyncio.to_thread(_charts_and_docx, pack, out_dir)
    await tell("PDF (LibreOffice)", 0.55)
    pdf = await pdf_bytes(rt, document)
    await asyncio.to_thread((out_dir / file_name(pack, "pdf")).write_bytes, pdf)
    await tell("Annexe XLSX et tableau de bord", 0.8)
    await asyncio.to_thread(_annex_and_page, pack, out_dir, png)
    await tell("Terminé", 1.0)
    return {fmt: out_dir / file_name(pack, fmt) for fmt in FORMATS}
