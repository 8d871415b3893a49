"""Activity records' tables: what each partner did (sessions and workshops, the people helped as anonymous
profiles), free-access visit tallies, workshop series with registrations and attendance, satisfaction answers.

Never a name nor a note about a person: a participant is an anonymous profile; a registration carries an
initial at most. Participants repeat their activity's structure and day so figures filter them without a join.
"""

from __future__ import annotations

from typing import Any

from piccolo.columns import JSON, Boolean, Date, ForeignKey, Integer, OnDelete, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from hub.tables import Structure, User


class Series(Table, tablename="activities_series"):
    """A workshop series: title, level, place, weekly pattern, seats, the modules of its learning path."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    structure = ForeignKey(Structure, on_delete=OnDelete.cascade, index=True)
    title = Varchar(length=200)
    level = Integer(default=1)  # 1 beginner, 2 intermediate, 3 advanced
    place_kind = Varchar(length=10, default="structure")
    place_id = Integer(null=True, default=None)  # the directory's place (network_place), when one of its own
    place_label = Varchar(length=200, default="")
    weekday = Integer(default=0)  # 0 Monday … 6 Sunday
    start_time = Varchar(length=5, default="14:00")
    duration = Integer(default=120)  # minutes of one session
    seats = Integer(default=10)
    modules = JSON(default="[]")  # the learning path's module titles, in order
    thematiques = JSON(default="[]")
    starts_on = Date()
    closed = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())


class Activity(Table, tablename="activities_activity"):
    """An individual help session or a group workshop (one session of a series, or a single one)."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    structure = ForeignKey(Structure, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=10, default="individual")  # vocabulary.KINDS
    day = Date()
    duration = Integer(default=30)  # minutes
    place_kind = Varchar(length=10, default="structure")  # vocabulary.PLACE_KINDS
    place_id = Integer(null=True, default=None)  # network_place id, when one of the structure's places
    place_label = Varchar(length=200, default="")  # the place's name, as imported or chosen
    thematiques = JSON(default="[]")  # vocabulary.THEMATIQUES codes
    demarches = JSON(default="[]")  # vocabulary.DEMARCHES codes
    demarche_name = Varchar(length=200, default="")  # "Déclaration de revenus": the procedure, never the person's
    materials = JSON(default="[]")  # vocabulary.MATERIALS codes
    tags = JSON(default="[]")  # the structure's own labels (imported from the Coop's "Tags")
    autonomy = Integer(null=True, default=None)  # 1–3: autonomy reached (individual) or the workshop's level
    workshop_name = Varchar(length=200, default="")
    redirected = Boolean(default=False)
    redirect_structure = Integer(null=True, default=None)  # a structure of the directory
    redirect_category = Varchar(length=20, default="")  # vocabulary.REDIRECT_CATEGORIES
    participants = Integer(default=1)
    referral_id = Integer(null=True, default=None)  # the referral it answers ("sent by a partner")
    series = ForeignKey(Series, null=True, default=None, on_delete=OnDelete.set_null, index=True)
    module_no = Integer(null=True, default=None)  # the series' module this session covered (1-based)
    source = Varchar(length=10, default="maillage")  # maillage | coop | template
    source_id = Varchar(length=100, default="")  # the row's id in its source: re-imports change nothing
    recorded_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())


class Participant(Table, tablename="activities_participant"):
    """One person helped by an activity, as an anonymous profile (every field may stay "nc")."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    activity = ForeignKey(Activity, on_delete=OnDelete.cascade, index=True)
    structure = Integer()  # the activity's, repeated for the figures
    day = Date()  # the activity's, repeated for the figures
    age_band = Varchar(length=6, default="nc")
    gender = Varchar(length=2, default="nc")
    status = Varchar(length=12, default="nc")
    commune_insee = Varchar(length=5, default="")
    commune = Varchar(length=120, default="")
    neighbourhood = Varchar(length=120, default="")
    channel = Varchar(length=16, default="nc")  # vocabulary.CHANNELS: how they heard of the place
    first_visit = Boolean(null=True, default=None)  # new (True) or followed (False) person; None: unknown
    satisfaction = Integer(null=True, default=None)  # 1–5, given to the worker


class Tally(Table, tablename="activities_tally"):
    """Free-access visits: one counter per place and day, tapped by the front desk."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    structure = ForeignKey(Structure, on_delete=OnDelete.cascade, index=True)
    place_key = Integer(default=0)  # network_place id, 0 for the structure itself (unique with structure, day)
    place_label = Varchar(length=200, default="")
    day = Date()
    visits = Integer(default=0)
    time_limit = Integer(null=True, default=None)  # minutes per visitor that day (the 40-minute rule), if any
    updated_at = Timestamptz(default=TimestamptzNow())


class Registration(Table, tablename="activities_registration"):
    """A person registered to a series: an initial at most, and an anonymous profile."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    series = ForeignKey(Series, on_delete=OnDelete.cascade, index=True)
    initial = Varchar(length=5, default="")
    age_band = Varchar(length=6, default="nc")
    gender = Varchar(length=2, default="nc")
    status = Varchar(length=12, default="nc")
    commune = Varchar(length=120, default="")
    channel = Varchar(length=16, default="nc")
    registered_on = Date()
    withdrawn_on = Date(null=True, default=None)  # said they stop (drop-out is also read from attendance)


class Attendance(Table, tablename="activities_attendance"):
    """A registration's presence at one session (an activity of the series)."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    registration = ForeignKey(Registration, on_delete=OnDelete.cascade, index=True)
    activity = ForeignKey(Activity, on_delete=OnDelete.cascade, index=True)
    present = Boolean(default=True)


class FeedbackCode(Table, tablename="activities_feedback_code"):
    """A single-use code a person answers the satisfaction page with (shown as a QR code, or printed)."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    code = Varchar(length=32, unique=True)
    activity = ForeignKey(Activity, on_delete=OnDelete.cascade, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class Feedback(Table, tablename="activities_feedback"):
    """One satisfaction answer: the smiley and how the person heard of the place; nothing about who."""

    id: Any  # Piccolo's implicit Serial primary key, named for type checkers
    code = ForeignKey(FeedbackCode, on_delete=OnDelete.cascade, unique=True)  # one answer per code
    activity = ForeignKey(Activity, on_delete=OnDelete.cascade, index=True)
    structure = Integer()
    day = Date()
    satisfaction = Integer()
    channel = Varchar(length=16, default="nc")
    answered_at = Timestamptz(default=TimestamptzNow())
