"""Activity records' pages through the whole app (httpx on ASGI): quick entry with its defaults and "the same
again", forms that come back with their values and French errors, the list's filters, the tally, a workshop series
with attendance and drop-out, satisfaction codes answered once; another structure's pages are 404."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

import httpx

from hub.runtime import Runtime
from network.activities import forms, service
from network.activities.tables import Activity, Attendance, Feedback, FeedbackCode, Participant, Registration, Tally
from tests.conftest import Person, make_person, make_service, make_structure, post_form, sign_in


@dataclasses.dataclass
class Town:
    epn: int
    other: int
    place: int
    mediator: Person
    outsider: Person


async def build(rt: Runtime) -> Town:
    epn = await make_structure("Espace public numérique de la Roseraie", "EPN")
    other = await make_structure("Centre social Bel-Air", "CS")
    service_id = await make_service(
        epn, "Aide aux démarches en ligne", places=[{"name": "Salle informatique", "commune": "Montclair"}]
    )
    place = await Activity.raw("SELECT id FROM network_place WHERE service = {}", service_id)
    return Town(
        epn=epn,
        other=other,
        place=place[0]["id"],
        mediator=await make_person(rt, "mina.mediatrice@epn.example.fr", {epn: ["prescriber"]}),
        outsider=await make_person(rt, "oscar.autre@belair.example.fr", {other: ["prescriber"]}),
    )


def _checked(html: str, name: str) -> list[str]:
    return re.findall(rf'name="{name}" value="([^"]*)" checked', html) + re.findall(
        rf'name="{name}" value="([^"]*)"[^>]*checked', html
    )


async def test_quick_entry_records_with_defaults_and_the_same_again(client: httpx.AsyncClient, rt: Runtime) -> None:
    town = await build(rt)
    await sign_in(client, town.mediator)
    home = await client.get("/activites")  # one structure: straight to quick entry
    assert home.url.path == f"/activites/{town.epn}/saisie"
    assert f'value="{rt.today().isoformat()}"' in home.text  # today by default
    form = {
        "kind": "individual",
        "day": rt.today().isoformat(),
        "duration": "45",
        "place": f"p:{town.place}",
        "thematiques": ["email", "procedures"],
        "age_band": "70+",
        "gender": "f",
        "channel": "word_of_mouth",
        "first_visit": "new",
        "satisfaction": "4",
        "action": "same",
    }
    done = await post_form(client, f"/activites/{town.epn}/saisie", form)
    assert done.status_code == 200 and "La même est prête" in done.text
    first = await Activity.select().where(Activity.structure == town.epn).output(load_json=True).first()
    assert (
        first["duration"] == 45 and first["place_id"] == town.place and first["thematiques"] == ["email", "procedures"]
    )
    person = await Participant.select().where(Participant.activity == first["id"]).first()
    assert (person["age_band"], person["gender"], person["first_visit"], person["satisfaction"]) == (
        "70+",
        "f",
        True,
        4,
    )
    # the same session is filled in for the next person; their profile starts blank
    assert 'id="duration-45" name="duration" value="45" checked' in done.text
    assert 'value="email" checked' in done.text and 'value="procedures" checked' in done.text
    assert 'value="70+" selected' not in done.text
    again = await client.get(f"/activites/{town.epn}/saisie")  # the worker's place is the default next time
    assert f'value="p:{town.place}" selected' in again.text
    listing = await client.get(f"/activites/{town.epn}?thematique=procedures")
    assert listing.status_code == 200 and "1 activité." in listing.text
    assert "0 activité." in (await client.get(f"/activites/{town.epn}?type=workshop")).text


async def test_a_wrong_entry_comes_back_with_its_values_and_french_errors(
    client: httpx.AsyncClient, rt: Runtime
) -> None:
    town = await build(rt)
    await sign_in(client, town.mediator)
    tomorrow = (rt.today() + timedelta(days=1)).isoformat()
    response = await post_form(
        client,
        f"/activites/{town.epn}/saisie",
        {"day": tomorrow, "duration": "autre", "duration_other": "900", "commune": "Montclair", "action": "save"},
    )
    assert response.status_code == 400
    assert "La date est dans le futur" in response.text
    assert "Durée de 900 minutes" in response.text
    assert "Choisissez au moins une thématique." in response.text
    assert 'value="Montclair"' in response.text and f'value="{tomorrow}"' in response.text
    wrong_code = await post_form(
        client, f"/activites/{town.epn}/saisie", {"day": "hier", "participants": "deux", "thematiques": "email"}
    )
    assert wrong_code.status_code == 400 and "Date invalide" in wrong_code.text and "nombre entier" in wrong_code.text
    assert await Activity.count() == 0


async def test_another_structures_pages_are_not_found(client: httpx.AsyncClient, rt: Runtime) -> None:
    town = await build(rt)
    activity = Activity(structure=town.epn, day=rt.today(), thematiques=["email"])
    await activity.save()
    await sign_in(client, town.outsider)
    for path in (
        f"/activites/{town.epn}",
        f"/activites/{town.epn}/saisie",
        f"/activites/{town.epn}/chiffres",
        f"/activites/{town.epn}/accueil-libre",
        f"/activites/{town.epn}/ateliers",
        f"/activites/{town.epn}/activite/{activity.id}",
        f"/activites/{town.other}/activite/{activity.id}",  # through one's own structure's address
    ):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert "Espace public numérique" not in response.text
    refused = await post_form(
        client, f"/activites/{town.epn}/saisie", {"day": rt.today().isoformat(), "thematiques": "email"}
    )
    assert refused.status_code == 404 and await Activity.count() == 1


async def test_the_tally_counts_taps_per_place_and_day(client: httpx.AsyncClient, rt: Runtime) -> None:
    town = await build(rt)
    await sign_in(client, town.mediator)
    for _ in range(3):
        response = await post_form(
            client, f"/activites/{town.epn}/accueil-libre", {"place": str(town.place), "delta": "1"}
        )
    assert "Compté : 3 passages aujourd&#39;hui." in response.text
    await post_form(client, f"/activites/{town.epn}/accueil-libre", {"place": str(town.place), "delta": "-1"})
    await post_form(client, f"/activites/{town.epn}/accueil-libre", {"place": "0", "delta": "0", "time_limit": "40"})
    rows = {r["place_key"]: r for r in await Tally.select()}
    assert rows[town.place]["visits"] == 2 and rows[0]["visits"] == 0 and rows[0]["time_limit"] == 40
    wrong = await post_form(client, f"/activites/{town.epn}/accueil-libre", {"place": "999999", "delta": "1"})
    assert wrong.status_code == 400 and "Choisissez un lieu de la liste." in wrong.text


async def test_a_series_attendance_dropout_and_satisfaction_codes(client: httpx.AsyncClient, rt: Runtime) -> None:
    town = await build(rt)
    await sign_in(client, town.mediator)
    start = rt.today() - timedelta(days=30)
    created = await post_form(
        client,
        f"/activites/{town.epn}/ateliers",
        {
            "title": "Premiers pas",
            "level": "1",
            "place": f"p:{town.place}",
            "weekday": "2",
            "start_time": "14:00",
            "duration": "120",
            "seats": "8",
            "starts_on": start.isoformat(),
            "modules": "La souris\nLe clavier\nInternet",
            "thematiques": "equipment",
        },
    )
    assert created.status_code == 200 and "Série créée." in created.text
    series_path = created.url.path
    for initial in ("A.", "B.", "C."):
        await post_form(client, f"{series_path}/inscriptions", {"initial": initial, "age_band": "60-69"})
    named = await post_form(client, f"{series_path}/inscriptions", {"initial": "Jean Dupont"})
    assert named.status_code == 400 and "jamais un nom" in named.text
    regs = [r["id"] for r in await Registration.select(Registration.id).order_by(Registration.id)]
    # A comes to the three sessions, B to the first only, C never: B has dropped out
    for week, present, module in ((0, regs[:2], "1"), (1, regs[:1], "2"), (2, regs[:1], "3")):
        day = (start + timedelta(days=7 * week)).isoformat()
        await post_form(
            client, f"{series_path}/seances", {"day": day, "present": [str(r) for r in present], "module_no": module}
        )
    page = await client.get(series_path)
    assert "Inscrits ne venant plus" in page.text and "1 (33,3 %)" in page.text  # B, of 3 registered
    assert "<dt>Taux de présence</dt><dd>44,4 %</dd>" in page.text  # 4 presences of 3 people at 3 sessions
    listing = await client.get(f"/activites/{town.epn}/ateliers")
    assert '<td class="num">44,4 %</td>' in listing.text and "1 (33,3 %)" in listing.text
    endless = await client.get(f"/activites/{town.epn}/chiffres?du=2000-01-01&au=2100-12-31")
    assert endless.status_code == 400 and "au plus 5 ans" in endless.text  # not a table of 1,200 months
    shares = await client.get(f"/activites/{town.epn}/chiffres")
    assert shares.status_code == 200 and '<meter min="0" max="100" value="100.0" aria-hidden="true"></meter> 100 %' in (
        shares.text
    )  # the three sessions are workshops: the meter reads the number, the page writes it the French way
    assert "3 sur 3" in page.text  # A went through the three modules
    assert await Attendance.count().where(Attendance.present.eq(True)) == 4
    sessions = (
        await Activity.select().where(Activity.series.is_not_null()).order_by(Activity.day).output(load_json=True)
    )
    assert [s["participants"] for s in sessions] == [2, 1, 1] and sessions[0]["kind"] == "workshop"
    first_visits = await Participant.select(Participant.first_visit).where(Participant.activity == sessions[1]["id"])
    assert first_visits == [{"first_visit": False}]  # A's second session: a followed person

    # satisfaction: two codes for the first session's two people, each answers once
    activity_path = f"/activites/{town.epn}/activite/{sessions[0]['id']}"
    shown = await post_form(client, f"{activity_path}/avis", {"count": "2"})
    assert shown.status_code == 200 and shown.text.count("<svg") >= 2
    too_many = await post_form(client, f"{activity_path}/avis", {"count": "9"})
    assert too_many.status_code == 400 and "un code par personne" in too_many.text
    codes = [r["code"] for r in await FeedbackCode.select(FeedbackCode.code)]
    assert len(codes) == 2
    visitor = httpx.AsyncClient(transport=client._transport, base_url=str(client.base_url), follow_redirects=True)
    async with visitor:
        form_page = await visitor.get(f"/avis/{codes[0]}")
        assert form_page.status_code == 200 and "Comment avez-vous connu ce lieu ?" in form_page.text
        assert form_page.headers["referrer-policy"] == "no-referrer"
        await visitor.get("/connexion")
        empty = await post_form(visitor, f"/avis/{codes[0]}", {})
        assert empty.status_code == 400 and "Choisissez un visage." in empty.text
        thanks = await post_form(visitor, f"/avis/{codes[0]}", {"satisfaction": "5", "channel": "poster"})
        assert thanks.status_code == 200 and "Votre avis est bien envoyé." in thanks.text
        again = await post_form(visitor, f"/avis/{codes[0]}", {"satisfaction": "1", "channel": "other"})
        assert again.status_code == 410 and "déjà servi" in again.text
        assert (await visitor.get("/avis/inconnu")).status_code == 404
    assert [(f["satisfaction"], f["channel"]) for f in await Feedback.select()] == [(5, "poster")]
    activity_page = await client.get(activity_path)
    assert "5,0 sur 5" in activity_page.text and activity_page.text.count("<svg") >= 1  # one code left to answer


async def test_a_referral_closed_as_helped_records_its_activity_in_one_step(
    client: httpx.AsyncClient, rt: Runtime
) -> None:
    from referrals.tables import Referral  # the test reads both domains; the code links them by the referral's id

    town = await build(rt)
    referral = Referral(
        code="code-de-suivi-du-test",
        status="closed",
        outcome="helped",
        sender_structure=town.other,
        receiver_structure=town.epn,
        service_id=0,
        resident_name="Awa B.",
        resident_phone="06 39 98 00 01",
        consent_method="oral",
    )
    await referral.save()
    await sign_in(client, town.mediator)
    shown = await client.get(f"/orientations/{referral.id}")
    link = f"/activites/{town.epn}/saisie?orientation={referral.id}"
    assert link in shown.text
    entry = await client.get(link)
    assert f"Suite de l&#39;orientation n° {referral.id}" in entry.text or f"orientation n° {referral.id}" in entry.text
    assert 'value="partner" selected' in entry.text
    done = await post_form(
        client,
        f"/activites/{town.epn}/saisie",
        {"day": rt.today().isoformat(), "thematiques": "procedures", "referral_id": str(referral.id), "channel": "nc"},
    )
    assert done.status_code == 200 and "Activité enregistrée." in done.text
    row = await Activity.select().first()
    person = await Participant.select().where(Participant.activity == row["id"]).first()
    assert row["referral_id"] == referral.id and person["channel"] == "partner"


async def test_each_typed_field_has_the_servers_limit_and_one_more_comes_back_beside_it(
    client: httpx.AsyncClient, rt: Runtime
) -> None:
    """The entry and workshop forms' maxlength is the server's own limit: that many characters pass the length
    rule, one more is said beside the field in French with what was typed kept."""
    town = await build(rt)
    await sign_in(client, town.mediator)
    entry = f"/activites/{town.epn}/saisie"
    page = (await client.get(entry)).text
    base = {"kind": "individual", "day": rt.today().isoformat(), "duration": "30", "thematiques": "email"}
    for name, limit, extra in (
        ("demarche_name", service.MAX_LABEL, {}),
        ("place_label", service.MAX_LABEL, {"place": "other"}),
        ("commune", service.MAX_COMMUNE, {}),
        ("neighbourhood", service.MAX_COMMUNE, {}),
    ):
        assert re.search(rf'name="{name}"[^>]* maxlength="{limit}"', page), name
        over = await post_form(client, entry, {**base, **extra, name: "7" * (limit + 1)})
        assert over.status_code == 400 and f'id="{name}-error"' in over.text, name
        assert f"{limit} caractères au plus" in over.text and f'value="{"7" * (limit + 1)}"' in over.text
        just = await post_form(client, entry, {**base, **extra, name: "7" * limit})
        assert just.status_code == 200, (name, just.text[-600:])
    series = f"/activites/{town.epn}/ateliers"
    page = (await client.get(series)).text
    assert re.search(rf'name="title"[^>]* maxlength="{service.MAX_LABEL}"', page)
    assert f'maxlength="{forms.MAX_MODULES_TEXT}"' in page
    workshop = {"title": "Premiers pas", "starts_on": rt.today().isoformat(), "level": "1", "weekday": "0"}
    modules = ("Module\n" * forms.MAX_MODULES_TEXT)[: forms.MAX_MODULES_TEXT + 1]
    over = await post_form(client, series, {**workshop, "modules": modules})
    assert (
        over.status_code == 400 and f"{forms.MAX_MODULES_TEXT:,} caractères au plus".replace(",", "\u202f") in over.text
    )
    assert 'id="modules-error"' in over.text
    over = await post_form(client, series, {**workshop, "title": "7" * (service.MAX_LABEL + 1)})
    assert over.status_code == 400 and f"{service.MAX_LABEL} caractères au plus" in over.text
