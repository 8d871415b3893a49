"""Activity records' tables: migrated from empty on the suite's engine (SQLite, or PostgreSQL with DATABASE_URL),
with the constraints the rules lean on: one source row per structure, one tally per place and day, one answer
per satisfaction code."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from hub.runtime import Runtime
from network.activities.tables import Activity, Feedback, FeedbackCode, Participant, Tally
from tests.conftest import make_structure


async def test_an_imported_row_is_kept_once_per_structure(rt: Runtime) -> None:
    a = await make_structure("Espace numérique A")
    b = await make_structure("Espace numérique B")
    await Activity.insert(Activity(structure=a, day=date(2026, 3, 2), source="coop", source_id="cra-1"))
    with pytest.raises(Exception, match="(?i)unique"):
        await Activity.insert(Activity(structure=a, day=date(2026, 3, 2), source="coop", source_id="cra-1"))
    # the same id in another structure's file, and rows typed in Maillage (no source id), are other rows
    await Activity.insert(Activity(structure=b, day=date(2026, 3, 2), source="coop", source_id="cra-1"))
    await Activity.insert(Activity(structure=a, day=date(2026, 3, 2)), Activity(structure=a, day=date(2026, 3, 2)))
    assert await Activity.count().where(Activity.structure == a) == 3


async def test_one_tally_per_place_and_day_and_one_answer_per_code(rt: Runtime) -> None:
    a = await make_structure("Médiathèque")
    await Tally.insert(Tally(structure=a, place_key=0, day=date(2026, 3, 2), visits=3))
    with pytest.raises(Exception, match="(?i)unique"):
        await Tally.insert(Tally(structure=a, place_key=0, day=date(2026, 3, 2), visits=1))
    activity = Activity(structure=a, day=date(2026, 3, 2))
    await activity.save()
    await Participant.insert(Participant(activity=activity.id, structure=a, day=date(2026, 3, 2), age_band="70+"))
    code = FeedbackCode(code="x" * 20, activity=activity.id, expires_at=datetime.now(UTC) + timedelta(days=1))
    await code.save()
    answer = {"code": code.id, "activity": activity.id, "structure": a, "day": date(2026, 3, 2), "satisfaction": 5}
    await Feedback.insert(Feedback(**answer))
    with pytest.raises(Exception, match="(?i)unique"):
        await Feedback.insert(Feedback(**answer))
    await Activity.delete().where(Activity.id == activity.id)  # its people, codes and answers go with it
    assert await Participant.count() == 0 and await Feedback.count() == 0 and await FeedbackCode.count() == 0
