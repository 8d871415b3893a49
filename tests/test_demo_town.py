"""The demo town as a visitor finds it: a journal with months of history whose chain holds, the coordination
desk's work in progress, every referral state on both sides of the demo accounts, and two semesters to compare."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from hub import demo, journal
from hub.mandates.tables import Mandate
from hub.reporting import Period
from hub.runtime import PARIS
from hub.tables import AccessLink, JournalEntry, Membership, User
from network.activities.tables import Activity
from network.meetings.tables import MeetingEvent
from network.tables import DuplicateFlag, ImportRecord, Service, Structure
from referrals.tables import Referral, SlotSchedule

pytestmark = pytest.mark.demo_town
STATES = {"sent", "in_review", "accepted", "refused", "redirected", "cancelled", "closed", "expired"}


async def _structure(name: str) -> int:
    row = await Structure.select(Structure.id).where(Structure.name == name).first()
    assert row is not None, name
    return int(row["id"])


async def test_the_journal_has_months_of_history_in_time_order_and_its_chain_holds(rt):
    checked = await journal.verify(rt.secrets.journal_key)
    assert checked.ok, checked.reason
    rows = await JournalEntry.select(JournalEntry.seq, JournalEntry.at, JournalEntry.action).order_by(JournalEntry.seq)
    assert len(rows) > 300
    moments = [datetime.fromisoformat(row["at"]) if isinstance(row["at"], str) else row["at"] for row in rows]
    assert moments == sorted(moments)  # appended oldest first
    assert moments[-1] - moments[0] > timedelta(days=180)
    assert len({moment.date() for moment in moments}) > 100  # not all at the seeding hour
    actions = {row["action"] for row in rows}
    assert {"user_created", "referral_sent", "referral_accept", "directory_import", "mandate_signed"} <= actions
    users = await User.select(User.email, User.last_login_at)
    assert all(row["last_login_at"] is not None for row in users if row["email"].endswith("@demo.maillage.fr"))


async def test_the_coordination_desk_has_work_in_progress(rt):
    assert await Structure.count().where(Structure.status == "pending") == 1
    assert await DuplicateFlag.count().where(DuplicateFlag.status == "open") >= 1
    reports = await ImportRecord.select(ImportRecord.summary)
    assert len(reports) == 2 and any("3 refusée" in row["summary"] for row in reports)


async def test_the_ccas_has_a_team_services_a_presentation_and_activity(rt):
    ccas = await _structure("CCAS de Montclair-sur-Loire")
    row = await Structure.select(Structure.description).where(Structure.id == ccas).first()
    assert row is not None and len(row["description"]) > 80
    assert await Service.count().where(Service.structure == ccas) >= 2
    assert len({m["user"] for m in await Membership.select(Membership.user).where(Membership.structure == ccas)}) >= 2
    assert await AccessLink.count().where(
        (AccessLink.structure == ccas) & (AccessLink.purpose == "invitation") & AccessLink.used_at.is_null()
    )
    assert await Activity.count().where(Activity.structure == ccas) > 50
    assert await Service.count().where(Service.is_active == True) > 30  # noqa: E712 (the directory pages)


async def test_referrals_are_in_every_state_on_both_sides_and_sent_in_office_hours(rt):
    roseraie = await _structure("Centre social de la Roseraie")
    received = await Referral.select(Referral.status).where(Referral.receiver_structure == roseraie)
    assert {row["status"] for row in received} >= STATES
    caf_user = (await User.select(User.id).where(User.email == demo.USERS[5].email).first() or {})["id"]
    sent = await Referral.select(Referral.status).where(Referral.sender_user == caf_user)
    assert {row["status"] for row in sent} >= STATES
    hours = [row["created_at"].astimezone(PARIS).hour for row in await Referral.select(Referral.created_at)]
    assert all(9 <= hour < 17 for hour in hours) and len(set(hours)) > 3
    schedule = await SlotSchedule.select(SlotSchedule.weekday).where(SlotSchedule.structure == roseraie).first()
    assert schedule is not None and schedule["weekday"] == 0  # the café numérique opens on Monday


async def test_two_semesters_to_compare_and_minutes_after_the_meeting(rt):
    today = rt.today()
    last = Period.parse(f"{today.year}-S{1 if today.month <= 6 else 2}").previous()
    prior = last.previous()
    fs = await _structure("France Services de Montclair")
    assert await Mandate.count().where((Mandate.structure == fs) & (Mandate.status == "signed")) >= 1
    for period in (last, prior):
        start = datetime.combine(period.start, datetime.min.time(), PARIS)
        end = datetime.combine(period.end + timedelta(days=1), datetime.min.time(), PARIS)
        assert await Referral.count().where((Referral.created_at >= start) & (Referral.created_at < end)) > 10
        assert await Mandate.count().where((Mandate.starts_on >= period.start) & (Mandate.starts_on <= period.end))
        assert await Activity.count().where((Activity.day >= period.start) & (Activity.day <= period.end)) > 1000
        assert await MeetingEvent.count().where((MeetingEvent.day >= period.start) & (MeetingEvent.day <= period.end))
    for row in await MeetingEvent.select().where(MeetingEvent.minutes_at.is_not_null()):
        assert row["minutes_at"].astimezone(PARIS).date() > row["day"]
