"""Network events (meetings, aidant trainings, working groups), their invitations and attendance, the decisions
and action items taken there, and the partner indicators structures report per period.

Structures and users are the core's (`hub.tables`); no table of another domain is referenced.
"""

from __future__ import annotations

from typing import Any

from piccolo.columns import (
    JSON,
    Boolean,
    Date,
    DoublePrecision,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from hub.tables import Structure, User


class MeetingEvent(Table, tablename="meetings_event"):
    """One network event: a meeting, a training or a working group, on one day, in one place."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    kind = Varchar(length=20, default="meeting")  # meeting | training | working_group (service.KINDS)
    title = Varchar(length=200)
    day = Date(index=True)
    start_time = Varchar(length=5)  # "14:00", Europe/Paris
    end_time = Varchar(length=5)  # "16:30"
    place = Varchar(length=300, default="")  # the room and its address
    agenda = JSON(default="[]")  # the agenda's items, in order (French lines)
    audience = Varchar(length=10, default="all")  # all | chosen (meetings_event_structure)
    status = Varchar(length=12, default="planned", index=True)  # planned | invited | held | cancelled
    minutes = Text(default="")  # written in the hub by the coordinator
    minutes_at = Timestamptz(null=True, default=None)
    sequence = Integer(default=0)  # the .ics SEQUENCE: bumped when the date, times or place change
    created_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    invited_at = Timestamptz(null=True, default=None)
    reminded_at = Timestamptz(null=True, default=None)  # the reminder before the day, sent once


class EventStructure(Table, tablename="meetings_event_structure"):
    """A structure of a "chosen" audience."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    event = ForeignKey(MeetingEvent, on_delete=OnDelete.cascade, index=True)
    structure = ForeignKey(Structure, on_delete=OnDelete.cascade, index=True)


class Invitation(Table, tablename="meetings_invitation"):
    """One invited person (a member of an audience structure), their single-use answer link and their answer."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    event = ForeignKey(MeetingEvent, on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)  # unique with event (migration)
    structure = ForeignKey(Structure, on_delete=OnDelete.cascade, index=True)
    token_hash = Varchar(length=64, unique=True)  # SHA-256 of the answer link's token, never the token
    token_used_at = Timestamptz(null=True, default=None)  # the link answers once
    answer = Varchar(length=5, default="")  # "" (none yet) | yes | no | maybe
    answered_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    reminded_at = Timestamptz(null=True, default=None)


class Attendance(Table, tablename="meetings_attendance"):
    """Who came: one row per person present, with the structure they came for."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    event = ForeignKey(MeetingEvent, on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)  # unique with event (migration)
    structure = ForeignKey(Structure, on_delete=OnDelete.cascade, index=True)
    recorded_at = Timestamptz(default=TimestamptzNow())


class ActionItem(Table, tablename="meetings_action"):
    """A decision (no owner) or an action item (an owner structure, a due date, a status) taken at an event."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    event = ForeignKey(MeetingEvent, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=10, default="action")  # decision | action
    title = Varchar(length=300)
    owner_structure = ForeignKey(Structure, null=True, default=None, on_delete=OnDelete.set_null, index=True)
    due_date = Date(null=True, default=None)
    status = Varchar(length=10, default="todo", index=True)  # todo | doing | done | dropped (service.STATUSES)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    closed_at = Timestamptz(null=True, default=None)  # when it became done or dropped


class PartnerIndicator(Table, tablename="meetings_indicator"):
    """An extra figure the coordinator asks partners to report per period (new CAF registrations…)."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    label = Varchar(length=200)
    definition = Text(default="")
    unit = Varchar(length=40, default="")
    number_type = Varchar(length=10, default="integer")  # integer | decimal
    by_neighbourhood = Boolean(default=False)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class IndicatorValue(Table, tablename="meetings_indicator_value"):
    """One structure's value of an indicator for a period (and a neighbourhood, when broken down)."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    indicator = ForeignKey(PartnerIndicator, on_delete=OnDelete.cascade, index=True)
    structure = ForeignKey(Structure, on_delete=OnDelete.cascade, index=True)
    period = Varchar(length=10)  # "2026-S1"; unique with indicator, structure, neighbourhood (migration)
    neighbourhood = Varchar(length=120, default="")  # "" when not broken down
    value = DoublePrecision(default=0.0)
    entered_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    entered_at = Timestamptz(default=TimestamptzNow())
