"""The reporting pack's content: "Activités par mois" compares each month with the previous period's month
of the same rank (its column was always 0), a place named after its structure is not named twice, a chart whose
counts are all hidden by the "< 5" rule is a sentence instead of empty axes, and no table header is empty."""

from __future__ import annotations

import datetime as dt
import io
from datetime import date

import docx

from hub.reporting import Figure, Indicator, Period, Section, Table
from hub.runtime import Runtime
from network.activities import report
from network.activities.tables import Tally
from network.meetings import outputs, pack
from tests.test_activities_figures import _handmade

S1 = Period.parse("2026-S1")


async def test_activities_by_month_beside_the_previous_periods_month_of_the_same_rank(rt: Runtime) -> None:
    a, _, _ = await _handmade(rt)  # 2026-S1: January to March; 2025-S2: one activity on 31 December
    await Tally.insert(
        Tally(structure=a, place_key=0, place_label="Espace numérique A", day=date(2026, 1, 9), visits=3)
    )
    section = await report.report(rt, S1)
    tables = {t.key: t for t in section.tables}
    months = tables["activites_mois"]
    assert months.columns == ("Mois", "Nombre", "Période précédente")
    assert [row[0] for row in months.rows] == [
        "janv. 2026 (juil. 2025)",
        "févr. 2026 (août 2025)",
        "mars 2026 (sept. 2025)",
        "avr. 2026 (oct. 2025)",
        "mai 2026 (nov. 2025)",
        "juin 2026 (déc. 2025)",
    ]
    assert [row[1:] for row in months.rows] == [(2, 0), (2, 0), (1, 0), (0, 0), (0, 0), (0, 1)]
    assert any("même rang" in note for note in section.notes)
    # a place named after its structure is named once
    places = [row[0] for row in tables["frequentation_lieux"].rows]
    assert "Espace numérique A" in places and "Espace numérique A – Espace numérique A" not in places
    assert all(t.columns[0] for t in section.tables)  # every table's first column has a name


async def test_a_year_is_compared_month_by_month_with_the_year_before(rt: Runtime) -> None:
    await _handmade(rt)
    months = {t.key: t for t in (await report.report(rt, Period.parse("2026"))).tables}["activites_mois"]
    assert months.rows[0][0] == "janv. 2026 (janv. 2025)" and months.rows[11] == ("déc. 2026 (déc. 2025)", 0, 1)


def _small_pack(shared: bool = True) -> pack.Pack:
    count = Indicator("x.mandates", "Mandats", "…")
    small = Table("mandats_etats", "Mandats par état", ("État", "Mandats"), (("Signé", 3), ("Révoqué", 1)), count)
    mixed = Table("mandats_types", "Mandats par type", ("Type", "Mandats"), (("Papier", 3), ("En ligne", 12)), count)
    section = Section("mandates", "Mandats", (Figure(count, 4, 0),), (small, mixed))
    return pack.Pack(S1, S1.previous(), (section,), dt.datetime(2026, 7, 1, tzinfo=dt.UTC), shared)


def test_a_chart_whose_counts_are_all_hidden_is_a_sentence_not_empty_axes() -> None:
    shared = _small_pack()
    images = outputs.chart_images(shared)
    assert ("mandates", "mandats_etats") not in images  # nothing to draw: every bar would be "< 5"
    assert ("mandates", "mandats_types") in images  # 12 shows, 3 says "< 5"
    (section,) = outputs.dashboard(shared)["sections"]
    notes = {t["key"]: t["note"] for t in section["tables"]}
    assert notes["mandats_etats"] == outputs.TOO_SMALL and notes["mandats_types"] == ""
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(outputs.docx_bytes(shared, images))).paragraphs)
    assert outputs.TOO_SMALL in text
    # the coordinator's own copy shows the exact numbers, chart included
    assert ("mandates", "mandats_etats") in outputs.chart_images(_small_pack(shared=False))


def test_no_header_cell_is_empty_in_the_dashboard_documents_and_annex() -> None:
    count = Indicator("x.count", "Compte", "…")
    table = Table("t", "Activités par thématique", ("", "Nombre", "Période précédente"), (("Mail", 12, 7),), count)
    built = pack.Pack(S1, S1.previous(), (Section("s", "S", (), (table,)),), dt.datetime(2026, 7, 1, tzinfo=dt.UTC))
    (section,) = outputs.dashboard(built)["sections"]
    assert section["tables"][0]["columns"] == ["Libellé", "Nombre", "Période précédente"]
    assert outputs.sheet_names(built) == {("s", "t"): "Activités par thématique"}
    assert outputs.sheet_name("Événements de la période et participation") == "Événements de la période"
