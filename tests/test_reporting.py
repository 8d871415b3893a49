"""The pack's shared rules (hub.reporting): periods and their previous equal period, one rounding rule for
percentages, the "< 5" rule for shared counts, and a section's emptiness and annex of definitions."""

from __future__ import annotations

import datetime as dt

import pytest

from hub.errors import Invalid
from hub.reporting import Figure, Indicator, Period, Section, Table, by_label, percent, percent_text, shared_count

D = dt.date


@pytest.mark.parametrize(
    ("text", "start", "end", "previous"),
    [
        ("2026-S1", D(2026, 1, 1), D(2026, 6, 30), ("2025-S2", D(2025, 7, 1), D(2025, 12, 31))),
        ("2026-s2", D(2026, 7, 1), D(2026, 12, 31), ("2026-S1", D(2026, 1, 1), D(2026, 6, 30))),
        ("2026-T1", D(2026, 1, 1), D(2026, 3, 31), ("2025-T4", D(2025, 10, 1), D(2025, 12, 31))),
        ("2024-T1", D(2024, 1, 1), D(2024, 3, 31), ("2023-T4", D(2023, 10, 1), D(2023, 12, 31))),
        (" 2025 ", D(2025, 1, 1), D(2025, 12, 31), ("2024", D(2024, 1, 1), D(2024, 12, 31))),
    ],
)
def test_named_periods_and_their_previous(text, start, end, previous):
    period = Period.parse(text)
    assert (period.start, period.end) == (start, end)
    before = period.previous()
    assert (before.label, before.start, before.end) == previous


def test_dates_give_a_period_whose_previous_has_as_many_days_just_before():
    period = Period.between(D(2026, 3, 1), D(2026, 3, 31))
    before = period.previous()
    assert before.days == period.days == 31
    assert before.end == D(2026, 2, 28) and before.start == D(2026, 1, 29)
    start, end = period.bounds()
    assert start.isoformat() == "2026-03-01T00:00:00+00:00" and end.isoformat() == "2026-04-01T00:00:00+00:00"


@pytest.mark.parametrize("text", ["2026-S3", "S1-2026", "", "2026-01", "deux mille"])
def test_an_unknown_period_is_refused_in_french(text):
    with pytest.raises(Invalid, match="Période inconnue"):
        Period.parse(text)


def test_a_period_that_ends_before_it_starts_or_has_not_begun_is_refused():
    with pytest.raises(Invalid, match="avant la date de début"):
        Period.between(D(2026, 3, 2), D(2026, 3, 1))
    with pytest.raises(Invalid, match="n'a pas commencé"):
        Period.parse("2027-S1").check_not_future(D(2026, 11, 29))
    Period.parse("2026-S2").check_not_future(D(2026, 11, 29))  # the current one is fine


@pytest.mark.parametrize(
    ("part", "total", "expected"),
    [(1, 3, 33.3), (2, 3, 66.7), (1, 8, 12.5), (1, 16, 6.3), (0, 0, 0.0), (5, 0, 0.0), (7, 7, 100.0)],
)
def test_one_rounding_rule_for_percentages(part, total, expected):
    assert percent(part, total) == expected


@pytest.mark.parametrize(("value", "shown"), [(33.3, "33,3"), (12.5, "12,5"), (6.3, "6,3"), (50.0, "50"), (0.0, "0")])
def test_a_percentage_is_written_the_french_way(value, shown):
    assert percent_text(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"), [(0, "0"), (1, "< 5"), (4, "< 5"), (5, "5"), (12345, "12\u202f345"), (None, "–")]
)
def test_small_counts_are_hidden_when_shared(value, shown):
    assert shared_count(value) == shown


def test_a_section_is_empty_without_data_and_lists_each_indicator_once():
    sent = Indicator("referrals.sent", "Orientations envoyées", "Orientations créées pendant la période.")
    by_kind = Table("flux", "Par type", ("Type", "Nombre"), (("CAF", 0), ("CCAS", 0)), indicator=sent)
    assert Section("referrals", "Orientations", (Figure(sent, 0, 3),), (by_kind,)).empty
    full = Section("referrals", "Orientations", (Figure(sent, 2, 3),), (by_kind,))
    assert not full.empty
    assert [i.key for i in full.indicators] == ["referrals.sent"]
    assert Figure(sent, 2, 3).change == -1.0 and Figure(sent, 2).change is None


def test_rows_by_label_are_largest_first_with_french_labels():
    rows = by_label([("ccas", 3), ("caf", 7), ("", 3)], {"ccas": "CCAS", "caf": "CAF"})
    assert rows == (("CAF", 7), ("CCAS", 3), ("non renseigné", 3))
