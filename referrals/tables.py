"""Referral tables: a referral (orientation) of a resident from one structure to another structure's service,
and its timeline.

The service is the directory's (`service_id`, no table class of the directory is imported: domains stay
independent); the two structures are the core's. Resident fields are the minimum the receiver needs to reach
the person; they are emptied by the jobs loop once the referral is old enough (`anonymised_at`).
"""

from __future__ import annotations

from typing import Any

from piccolo.columns import JSON, Boolean, Bytea, Date, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from hub.tables import Structure, User


class Referral(Table, tablename="referrals_referral"):
    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    code = Varchar(length=32, unique=True)  # the resident's status page: unguessable, no personal data behind it
    status = Varchar(length=12, default="sent", index=True)  # see referrals.lifecycle.STATUSES
    version = Integer(default=1)  # every change bumps it: two deciders at once, one wins
    sender_structure = ForeignKey(Structure, on_delete=OnDelete.restrict, index=True)
    sender_user = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    receiver_structure = ForeignKey(Structure, on_delete=OnDelete.restrict, index=True)
    service_id = Integer(index=True)  # the directory's service
    service_name = Varchar(length=200, default="")  # as it was named when sent
    thematiques = JSON(default="[]")  # data·inclusion codes of the need
    need = Text(default="")  # what the resident needs, in a few words (no health details)
    # the resident: the minimum to reach them (emptied at anonymisation)
    resident_name = Varchar(length=120, default="")
    resident_phone = Varchar(length=20, default="")
    resident_email = Varchar(length=254, default="")
    preferred_contact = Varchar(length=10, default="phone")  # phone | sms | email | mail
    availability = JSON(default="[]")  # half-days: "mo-am", "tu-pm"…
    note = Text(default="")  # for the receiver; never health details (the form says so)
    consent_method = Varchar(length=10, default="")  # oral | written | digital
    consent_at = Timestamptz(null=True, default=None)
    # the receiver's answer
    refusal_reason = Varchar(length=20, default="")
    decision_message = Text(default="")
    share_reason = Boolean(default=False)  # the resident may read the reason on their status page
    outcome = Varchar(length=20, default="")
    redirected_from = Integer(null=True, default=None, index=True)  # the referral this one continues
    redirected_to = Integer(null=True, default=None)
    idempotency_key = Varchar(length=100, null=True, default=None)  # unique per sending user (migration)
    request_hash = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    updated_at = Timestamptz(default=TimestamptzNow())
    first_answer_at = Timestamptz(null=True, default=None)  # the receiver's first act
    decided_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    reminded_at = Timestamptz(null=True, default=None)
    escalated_at = Timestamptz(null=True, default=None)
    anonymised_at = Timestamptz(null=True, default=None)


class ReferralEvent(Table, tablename="referrals_event"):
    """One line of a referral's timeline: who did what, when; details carry no personal data."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    referral = ForeignKey(Referral, on_delete=OnDelete.cascade, index=True)
    at = Timestamptz(default=TimestamptzNow())
    actor_user = Integer(null=True, default=None)  # hub_user id; None: the hub itself (expiry, reminders)
    actor_structure = Integer(null=True, default=None)
    action = Varchar(length=20)
    from_status = Varchar(length=12, default="")
    to_status = Varchar(length=12, default="")
    details = JSON(default="{}")


class SlotSchedule(Table, tablename="referrals_schedule"):
    """Appointment slots a receiving service publishes: a weekly pattern for one of its places."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    service_id = Integer(index=True)  # the directory's service
    structure = ForeignKey(Structure, on_delete=OnDelete.cascade, index=True)  # the service's structure
    place = Varchar(length=200, default="")  # where (the place's name as the directory gives it)
    weekday = Integer()  # 0 Monday … 6 Sunday
    start_time = Varchar(length=5)  # "09:00", Europe/Paris
    end_time = Varchar(length=5)  # "12:00": slots of `length` minutes from start_time until end_time
    length = Integer(default=30)  # minutes
    seats = Integer(default=1)  # people per slot
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class SlotClosure(Table, tablename="referrals_closure"):
    """A day a schedule does not run (holidays, training…)."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    schedule = ForeignKey(SlotSchedule, on_delete=OnDelete.cascade, index=True)
    day = Date()


class Booking(Table, tablename="referrals_booking"):
    """A seat held for a referral; released when the referral is refused, cancelled or expires.

    A partial unique index (schedule, starts_at, seat) over live bookings: two prescribers never hold one seat."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    schedule = ForeignKey(SlotSchedule, on_delete=OnDelete.cascade, index=True)
    starts_at = Timestamptz()
    seat = Integer()
    referral = ForeignKey(Referral, on_delete=OnDelete.cascade, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    released_at = Timestamptz(null=True, default=None)


class Attachment(Table, tablename="referrals_attachment"):
    """A file sent with a referral (PDF, PNG or JPEG, type checked from its content): read by the two structures
    only, by its number; deleted some months after the referral ended, and with its anonymisation."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    referral = ForeignKey(Referral, on_delete=OnDelete.cascade, index=True)
    filename = Varchar(length=120)  # sanitised, with the extension of the type found
    media_type = Varchar(length=40)  # application/pdf | image/png | image/jpeg
    size = Integer()
    sha256 = Varchar(length=64)
    content = Bytea()
    added_by_user = Integer(null=True, default=None)
    added_by_structure = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
