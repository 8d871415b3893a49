"""Activity records' authorization probes (see hub.probes), and the rows of the shared world they aim at.

A structure's activities, series, tallies and codes are its members' (any role): everyone else gets a 404, the
coordinator included, who reads the figures (a structure's, and the network's). The satisfaction page is public:
its single-use code is the key.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hub.probes import Probe, page, public
from network.activities.tables import Activity, FeedbackCode, Participant, Registration, Series

A_MEMBERS = {"prescriber_a", "aidant_a", "manager_a"}
OVERSEERS = {"coordinator", "admin"}
ENTRY_FORM = {"kind": "individual", "day": "2026-01-15", "duration": "30", "thematiques": "email", "age_band": "70+"}
SERIES_FORM = {
    "title": "Premiers pas sur l'ordinateur",
    "level": "1",
    "weekday": "2",
    "start_time": "14:00",
    "duration": "120",
    "seats": "10",
    "starts_on": "2026-02-04",
    "thematiques": "equipment",
}
FEEDBACK_CODE = "code-avis-de-la-matrice"


async def build_world(a: int, b: int) -> dict[str, int]:
    """An activity of A with a satisfaction code, a series of A with one registration."""
    activity = Activity(structure=a, day=date(2026, 1, 10), thematiques=["email"])
    await activity.save()
    await Participant.insert(Participant(activity=activity.id, structure=a, day=date(2026, 1, 10)))
    code = FeedbackCode(code=FEEDBACK_CODE, activity=activity.id, expires_at=_far_future())
    await code.save()
    series = Series(structure=a, title="Atelier tablette", starts_on=date(2026, 1, 7), thematiques=["equipment"])
    await series.save()
    registration = Registration(series=series.id, initial="M.", registered_on=date(2026, 1, 5))
    await registration.save()
    return {"act_a": int(activity.id), "series_a": int(series.id), "reg_a": int(registration.id)}


def _far_future() -> datetime:
    return datetime.now(UTC) + timedelta(days=365)


def a_only(outcome: str) -> dict[str, str]:
    return page(outcome, A_MEMBERS, denied="404")


SEE_ENTRY_A = "see:/activites/{a}/saisie"
PROBES: list[Probe] = [
    Probe(
        "GET",
        "/activites",
        "/activites",
        page(SEE_ENTRY_A, A_MEMBERS, manager_b="see:/activites/{b}/saisie", coordinator="200", admin="200"),
    ),
    Probe("GET", "/activites/{structure_id:int}/saisie", "/activites/{a}/saisie", a_only("200")),
    Probe(
        "POST", "/activites/{structure_id:int}/saisie", "/activites/{a}/saisie", a_only(SEE_ENTRY_A), form=ENTRY_FORM
    ),
    Probe("GET", "/activites/{structure_id:int}", "/activites/{a}", a_only("200")),
    Probe(
        "GET",
        "/activites/{structure_id:int}/activite/{activity_id:int}",
        "/activites/{a}/activite/{act_a}",
        a_only("200"),
    ),
    Probe(  # IDOR: B's member through B's own address still does not reach A's activity
        "GET",
        "/activites/{structure_id:int}/activite/{activity_id:int}",
        "/activites/{b}/activite/{act_a}",
        page("404", (), denied="404"),
    ),
    Probe(
        "GET",
        "/activites/{structure_id:int}/chiffres",
        "/activites/{a}/chiffres",
        page("200", A_MEMBERS | OVERSEERS, denied="404"),
    ),
    Probe("GET", "/activites/reseau", "/activites/reseau", page("200", OVERSEERS)),
    Probe("GET", "/activites/{structure_id:int}/accueil-libre", "/activites/{a}/accueil-libre", a_only("200")),
    Probe(
        "POST",
        "/activites/{structure_id:int}/accueil-libre",
        "/activites/{a}/accueil-libre",
        a_only("see:/activites/{a}/accueil-libre"),
        form={"place": "0", "delta": "1"},
    ),
    Probe("GET", "/activites/{structure_id:int}/ateliers", "/activites/{a}/ateliers", a_only("200")),
    Probe(
        "POST",
        "/activites/{structure_id:int}/ateliers",
        "/activites/{a}/ateliers",
        a_only("see:/activites/{a}/ateliers/*"),
        form=SERIES_FORM,
    ),
    Probe(
        "GET",
        "/activites/{structure_id:int}/ateliers/{series_id:int}",
        "/activites/{a}/ateliers/{series_a}",
        a_only("200"),
    ),
    Probe(
        "POST",
        "/activites/{structure_id:int}/ateliers/{series_id:int}/inscriptions",
        "/activites/{a}/ateliers/{series_a}/inscriptions",
        a_only("see:/activites/{a}/ateliers/{series_a}"),
        form={"initial": "J.", "age_band": "25-39"},
    ),
    Probe(
        "POST",
        "/activites/{structure_id:int}/ateliers/{series_id:int}/seances",
        "/activites/{a}/ateliers/{series_a}/seances",
        a_only("see:/activites/{a}/activite/*"),
        form={"day": "2026-01-14", "present": "{reg_a}", "walk_ins": "1"},
    ),
    Probe(
        "POST",
        "/activites/{structure_id:int}/ateliers/{series_id:int}/inscriptions/{registration_id:int}/retrait",
        "/activites/{a}/ateliers/{series_a}/inscriptions/{reg_a}/retrait",
        a_only("see:/activites/{a}/ateliers/{series_a}"),
    ),
    Probe(
        "POST",
        "/activites/{structure_id:int}/activite/{activity_id:int}/avis",
        "/activites/{a}/activite/{act_a}/avis",
        a_only("see:/activites/{a}/activite/{act_a}*"),
        form={"count": "1"},
    ),
    Probe("GET", "/avis/{code:str}", f"/avis/{FEEDBACK_CODE}", public("200")),
    Probe("GET", "/avis/{code:str}", "/avis/code-inconnu", public("404")),
    Probe(
        "POST",
        "/avis/{code:str}",
        f"/avis/{FEEDBACK_CODE}",
        public("200"),
        form={"satisfaction": "5", "channel": "poster"},
    ),
]
PROBES += [
    Probe("GET", "/activites/{structure_id:int}/import", "/activites/{a}/import", a_only("200")),
    Probe(  # no file: the form comes back with its message (the import itself is tested with files)
        "POST", "/activites/{structure_id:int}/import", "/activites/{a}/import", a_only("400"), form={"format": "coop"}
    ),
    Probe("GET", "/activites/modele.csv", "/activites/modele.csv", page("200")),
    Probe("GET", "/activites/modele.xlsx", "/activites/modele.xlsx", page("200")),
]
