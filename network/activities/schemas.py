"""Activity records' typed commands (msgspec): what the services take, whichever way the data came (a page's
form, an imported row). Codes are those of network.activities.vocabulary; the services check them in French."""

from __future__ import annotations

from datetime import date

import msgspec


class Profile(msgspec.Struct, frozen=True):
    """One person helped, anonymous: every field may stay "nc" (non communiqué) or empty."""

    age_band: str = "nc"
    gender: str = "nc"
    status: str = "nc"
    commune_insee: str = ""
    commune: str = ""
    neighbourhood: str = ""
    channel: str = "nc"  # how they heard of the place
    first_visit: bool | None = None
    satisfaction: int | None = None  # 1–5, as told to the worker


class ActivityCreate(msgspec.Struct, frozen=True):
    """An individual session or a workshop, as recorded or imported."""

    structure_id: int
    day: date
    kind: str = "individual"
    duration: int = 30
    place_kind: str = "structure"
    place_id: int | None = None
    place_label: str = ""
    thematiques: tuple[str, ...] = ()
    demarches: tuple[str, ...] = ()
    demarche_name: str = ""
    materials: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    autonomy: int | None = None
    workshop_name: str = ""
    redirected: bool = False
    redirect_structure_id: int | None = None
    redirect_category: str = ""
    participants: int = 1
    profiles: tuple[Profile, ...] = ()  # at most `participants`; the others are counted as "nc"
    referral_id: int | None = None
    series_id: int | None = None
    module_no: int | None = None
    source: str = "maillage"
    source_id: str = ""


class SeriesCreate(msgspec.Struct, frozen=True):
    structure_id: int
    title: str
    starts_on: date
    level: int = 1
    place_id: int | None = None
    place_label: str = ""
    weekday: int = 0
    start_time: str = "14:00"
    duration: int = 120
    seats: int = 10
    modules: tuple[str, ...] = ()
    thematiques: tuple[str, ...] = ()


class RegistrationCreate(msgspec.Struct, frozen=True):
    initial: str = ""
    profile: Profile = Profile()


class SessionCreate(msgspec.Struct, frozen=True):
    """One session of a series: who came (registration ids), walk-ins, the module it covered."""

    day: date
    present: tuple[int, ...] = ()
    walk_ins: int = 0
    module_no: int | None = None
    duration: int | None = None  # the series' own when not given


class FeedbackAnswer(msgspec.Struct, frozen=True):
    satisfaction: int
    channel: str = "nc"
