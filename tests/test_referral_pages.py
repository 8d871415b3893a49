"""Referrals' pages through the whole app (httpx on ASGI): route, send, answer, follow; forms that come back with
their values and French errors; who sees what (404 for a third structure); the resident's status page."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import httpx
import pytest

from hub import accounts
from hub.runtime import Runtime
from referrals import service
from referrals.schemas import ReferralCreate, Transition
from referrals.service import NIR_MESSAGE
from referrals.tables import Referral
from tests.conftest import Person, csrf_token, make_person, make_service, make_structure, post_form, sign_in

DEMARCHES = "numerique--acceder-a-des-services-en-ligne"
RESIDENT = "Awa Diallo"
RESIDENT_PHONE = "06 39 98 12 34"


@dataclasses.dataclass
class Network:
    caf: int
    ccas: int
    third: int
    service_id: int
    prescriber: Person
    receiver: Person
    outsider: Person


async def build(rt: Runtime) -> Network:
    """A CAF that orients, a CCAS whose service receives, a third structure that has nothing to do with it."""
    caf = await make_structure("CAF du Loiret", "CAF")
    ccas = await make_structure("CCAS de Montclair", "CCAS", address="2 place de la Mairie", phone="02 38 00 00 01")
    third = await make_structure("Centre social Bel-Air", "CS")
    service_id = await make_service(
        ccas,
        "Aide aux démarches en ligne",
        thematiques=[DEMARCHES],
        accepts_referrals=True,
        referral_email="orientations@ccas.example.fr",
        phone="02 38 00 00 02",
        places=[
            {"name": "Mairie annexe", "address": "5 rue des Lilas", "postal_code": "45990", "commune": "Montclair"}
        ],
    )
    return Network(
        caf=caf,
        ccas=ccas,
        third=third,
        service_id=service_id,
        prescriber=await make_person(rt, "paula.prescriptrice@caf.example.fr", {caf: ["prescriber"]}),
        receiver=await make_person(rt, "rene.referent@ccas.example.fr", {ccas: ["manager"]}),
        outsider=await make_person(rt, "tom.tiers@belair.example.fr", {third: ["prescriber"]}),
    )


async def switch_to(client: httpx.AsyncClient, person: Person) -> None:
    client.cookies.clear()
    await sign_in(client, person)


def send_form(service_id: int, **overrides: str) -> dict[str, str | list[str]]:
    form: dict[str, str | list[str]] = {
        "step": "send",
        "thematiques": [DEMARCHES],
        "need": "Déclarer ses ressources trimestrielles en ligne",
        "resident_name": RESIDENT,
        "resident_phone": RESIDENT_PHONE,
        "resident_email": "",
        "preferred_contact": "phone",
        "availability": ["tu-am", "th-pm"],
        "note": "Préfère être appelée le matin.",
        "consent_method": "oral",
        "consent_confirmed": "on",
    }
    form.update(overrides)
    return form


async def post(client: httpx.AsyncClient, path: str, form: dict[str, str | list[str]]) -> httpx.Response:
    return await client.post(path, data={**form, "_csrf_token": csrf_token(client)})


async def referral_ids() -> list[int]:
    return [row["id"] for row in await Referral.select(Referral.id).order_by(Referral.id)]


async def send_directly(
    rt: Runtime, net: Network, service_id: int | None = None, need: str = "Créer son espace en ligne", **more: Any
) -> int:
    """The prescriber's referral of the resident to the network's service (or `service_id`), sent by the service
    itself; `more` changes or adds to the command (its thématiques, a slot…)."""
    actor = await accounts.actor_for_user(net.prescriber.id)
    command = ReferralCreate(
        **{
            "service_id": service_id or net.service_id,
            "thematiques": [DEMARCHES],
            "need": need,
            "resident_name": RESIDENT,
            "resident_phone": RESIDENT_PHONE,
            "consent_method": "oral",
            "consent_confirmed": True,
            **more,
        }
    )
    referral_id, _ = await service.create(rt, actor, command)
    return referral_id


async def test_route_send_accept_close_and_the_sender_sees_the_outcome(client: httpx.AsyncClient, rt: Runtime) -> None:
    net = await build(rt)
    await sign_in(client, net.prescriber)

    page = await client.get("/orientations/nouvelle")
    assert page.status_code == 200
    assert "Le besoin de la personne" in page.text and 'name="address"' in page.text

    results = await post(client, "/orientations/nouvelle", {"thematiques": [DEMARCHES], "text": "", "address": ""})
    assert results.status_code == 200, results.text
    assert "Aide aux démarches en ligne" in results.text
    assert f'href="/annuaire/services/{net.service_id}"' in results.text
    assert "points sur 100" in results.text and "Orienter vers ce service" in results.text
    assert results.url.path == "/orientations/nouvelle"  # a search changes nothing, and puts nothing in a URL

    why = await post(client, "/orientations/nouvelle", {"thematiques": [DEMARCHES], "why_not_id": "999999"})
    assert "Aucun service de l&#39;annuaire n&#39;a ce numéro." in why.text

    prepared = await post(
        client, f"/orientations/nouvelle/{net.service_id}", {"step": "prepare", "thematiques": [DEMARCHES]}
    )
    assert prepared.status_code == 200
    assert f'value="{DEMARCHES}" checked' in prepared.text  # the need carried over
    assert "jamais le numéro de sécurité sociale" in prepared.text

    sent = await post(client, f"/orientations/nouvelle/{net.service_id}", send_form(net.service_id))
    assert sent.history and sent.history[0].status_code == 302
    [referral_id] = await referral_ids()
    assert sent.url.path == f"/orientations/{referral_id}"
    assert "Orientation envoyée" in sent.text
    assert "/suivi/" in sent.text  # the resident's status link, to hand over

    await switch_to(client, net.receiver)
    inbox = await client.get("/orientations")
    assert f"n° {referral_id}" in inbox.text and RESIDENT in inbox.text
    assert 'Envoyée <span class="count">(1)</span>' in inbox.text  # the counts per status, as tabs
    detail = await client.get(f"/orientations/{referral_id}")
    assert RESIDENT_PHONE in detail.text  # the contact, on the referral's page
    assert 'value="accept"' in detail.text and 'value="cancel"' not in detail.text  # the receiver's actions only

    accepted = await post(client, f"/orientations/{referral_id}/action", {"action": "accept", "message": "Mardi 14 h"})
    assert "Orientation acceptée" in accepted.text
    closed = await post(client, f"/orientations/{referral_id}/action", {"action": "close", "outcome": "helped"})
    assert "Orientation clôturée" in closed.text

    await switch_to(client, net.prescriber)
    sent_box = await client.get("/orientations?boite=envoyees&statut=cloturee")
    assert f"n° {referral_id}" in sent_box.text
    followed = await client.get(f"/orientations/{referral_id}")
    assert "La personne a été aidée" in followed.text and "Mardi 14 h" in followed.text
    assert "Accompagnement clôturé" in followed.text  # the timeline


async def test_bad_send_form_comes_back_with_values_and_errors(client: httpx.AsyncClient, rt: Runtime) -> None:
    net = await build(rt)
    await sign_in(client, net.prescriber)
    await client.get(f"/orientations/nouvelle/{net.service_id}")
    form = send_form(
        net.service_id,
        resident_name="",
        preferred_contact="email",
        resident_email="pas-une-adresse",
        consent_method="",
        consent_confirmed="",
        note="Gardez cette note",
    )
    response = await post(client, f"/orientations/nouvelle/{net.service_id}", form)
    assert response.status_code == 400
    text = response.text
    assert "Indiquez le nom de la personne" in text
    assert "Indiquez comment la personne a donné son accord." in text
    assert "Confirmez que la personne est informée" in text
    assert "Adresse électronique invalide" in text
    assert f'value="{RESIDENT_PHONE}"' in text and "Gardez cette note" in text and 'value="pas-une-adresse"' in text
    assert 'id="resident_name" name="resident_name"' in text
    assert re.search(r'aria-describedby="resident_name-hint resident_name-error"', text)
    assert await referral_ids() == []


async def test_a_nir_in_the_note_is_refused(client: httpx.AsyncClient, rt: Runtime) -> None:
    net = await build(rt)
    await sign_in(client, net.prescriber)
    await client.get(f"/orientations/nouvelle/{net.service_id}")
    form = send_form(net.service_id, note="Son numéro : 1 84 12 75 123 456 78")
    response = await post(client, f"/orientations/nouvelle/{net.service_id}", form)
    assert response.status_code == 400
    assert NIR_MESSAGE.replace("'", "&#39;") in response.text
    assert await referral_ids() == []


async def test_a_third_structure_gets_404_and_the_coordinator_403(client: httpx.AsyncClient, rt: Runtime) -> None:
    net = await build(rt)
    referral_id = await send_directly(rt, net)
    await sign_in(client, net.outsider)
    assert (await client.get(f"/orientations/{referral_id}")).status_code == 404
    refused = await post(client, f"/orientations/{referral_id}/action", {"action": "refuse", "reason": "full"})
    assert refused.status_code == 404
    inbox = await client.get("/orientations?boite=envoyees")
    assert f"n° {referral_id}" not in inbox.text
    coordinator = await make_person(rt, "clara.coordination@reseau.example.fr", coordinator=True)
    await switch_to(client, coordinator)
    assert (await client.get(f"/orientations/{referral_id}")).status_code == 403
    assert (await client.get("/orientations/chiffres")).status_code == 200


async def test_someone_deciding_first_gets_a_french_message_and_the_current_state(
    client: httpx.AsyncClient, rt: Runtime
) -> None:
    net = await build(rt)
    referral_id = await send_directly(rt, net)
    await sign_in(client, net.receiver)
    await client.get(f"/orientations/{referral_id}")
    await service.transition(
        rt, await accounts.actor_for_user(net.receiver.id), referral_id, Transition(action="accept")
    )
    late = await post(client, f"/orientations/{referral_id}/action", {"action": "refuse", "reason": "full"})
    assert late.url.path == f"/orientations/{referral_id}"
    assert "Cette orientation est acceptée" in late.text
    assert "notice-error" in late.text


async def test_refusing_without_a_reason_shows_the_error_beside_the_field(
    client: httpx.AsyncClient, rt: Runtime
) -> None:
    net = await build(rt)
    referral_id = await send_directly(rt, net)
    await sign_in(client, net.receiver)
    await client.get(f"/orientations/{referral_id}")
    response = await post(client, f"/orientations/{referral_id}/action", {"action": "refuse", "message": "Complet"})
    assert response.status_code == 400
    assert 'id="refuse-reason-error"' in response.text and "Choisissez le motif du refus." in response.text
    assert ">Complet</textarea>" in response.text
    assert (await Referral.select(Referral.status).first())["status"] == "sent"


async def test_the_status_page_says_accepted_without_personal_data(client: httpx.AsyncClient, rt: Runtime) -> None:
    net = await build(rt)
    referral_id = await send_directly(rt, net)
    receiver = await accounts.actor_for_user(net.receiver.id)
    await service.transition(rt, receiver, referral_id, Transition(action="accept"))
    _, code = await service.read_with_code(receiver, referral_id)
    page = await client.get(f"/suivi/{code}")  # nobody signed in
    assert page.status_code == 200
    assert "Votre demande est acceptée." in page.text
    assert (
        "Aide aux démarches en ligne" in page.text and "5 rue des Lilas" in page.text and "02 38 00 00 02" in page.text
    )
    assert RESIDENT not in page.text and RESIDENT_PHONE not in page.text and "Awa" not in page.text
    assert page.headers["x-robots-tag"].startswith("noindex") and page.headers["referrer-policy"] == "no-referrer"
    unknown = await client.get("/suivi/ce-code-n-existe-pas")
    assert unknown.status_code == 404 and "Ce code ne correspond à aucune demande." in unknown.text


async def test_the_status_page_follows_a_redirect_to_the_new_service(client: httpx.AsyncClient, rt: Runtime) -> None:
    net = await build(rt)
    elsewhere = await make_service(
        net.third,
        "Permanence numérique de Bel-Air",
        thematiques=[DEMARCHES],
        accepts_referrals=True,
        phone="02 38 11 22 33",
        places=[
            {"name": "Médiathèque", "address": "3 allée des Tilleuls", "postal_code": "45990", "commune": "Montclair"}
        ],
    )
    referral_id = await send_directly(rt, net)
    _, code = await service.read_with_code(await accounts.actor_for_user(net.receiver.id), referral_id)
    await service.transition(
        rt,
        await accounts.actor_for_user(net.receiver.id),
        referral_id,
        Transition(action="redirect", service_id=elsewhere),
    )
    page = await client.get(f"/suivi/{code}")  # the slip's code, the first referral's
    assert page.status_code == 200
    assert "Votre demande est passée à un autre service." in page.text
    assert "Le nouveau service s&#39;appelle : Permanence numérique de Bel-Air." in page.text
    assert "Votre demande est envoyée." in page.text  # the new referral's own status
    assert "3 allée des Tilleuls" in page.text and "02 38 11 22 33" in page.text  # where to go now, whom to call
    assert "Au début, votre demande était pour : Aide aux démarches en ligne." in page.text
    assert "5 rue des Lilas" not in page.text  # not the first service's address any more

    # the new service accepts it: the same code says so
    new_id = (await Referral.select(Referral.redirected_to).where(Referral.id == referral_id).first())["redirected_to"]
    outsider = await accounts.actor_for_user(net.outsider.id)
    await service.transition(rt, outsider, new_id, Transition(action="accept"))
    page = await client.get(f"/suivi/{code}")
    assert "Votre demande est acceptée." in page.text and "Permanence numérique de Bel-Air" in page.text
    assert RESIDENT not in page.text and RESIDENT_PHONE not in page.text


async def test_a_shared_refusal_reason_is_told_to_the_resident(client: httpx.AsyncClient, rt: Runtime) -> None:
    net = await build(rt)
    referral_id = await send_directly(rt, net)
    await sign_in(client, net.receiver)
    await client.get(f"/orientations/{referral_id}")
    await post(
        client, f"/orientations/{referral_id}/action", {"action": "refuse", "reason": "full", "share_reason": "on"}
    )
    _, code = await service.read_with_code(await accounts.actor_for_user(net.receiver.id), referral_id)
    page = await client.get(f"/suivi/{code}")
    assert "Votre demande est refusée." in page.text and "Le service n&#39;a plus de place." in page.text


@pytest.mark.parametrize("who", ["member", "coordinator"])
async def test_figures_show_own_structures_or_the_whole_network(
    client: httpx.AsyncClient, rt: Runtime, who: str
) -> None:
    net = await build(rt)
    await send_directly(rt, net)
    person = net.prescriber
    if who == "coordinator":
        person = await make_person(rt, "clara.coordination@reseau.example.fr", coordinator=True)
    await sign_in(client, person)
    page = await client.get("/orientations/chiffres")
    assert page.status_code == 200
    assert "CAF du Loiret" in page.text
    if who == "coordinator":
        assert "CCAS de Montclair" in page.text and "Qui oriente vers qui" in page.text
    else:
        assert "CCAS de Montclair" not in page.text and "Qui oriente vers qui" not in page.text
    wrong = await client.get("/orientations/chiffres?du=2026-13-45")
    assert wrong.status_code == 400 and "Date invalide" in wrong.text
    endless = await client.get("/orientations/chiffres?du=2000-01-01&au=2100-12-31")
    assert endless.status_code == 400 and "au plus 5 ans" in endless.text
    last_day = await client.get("/orientations/chiffres?du=9999-12-31&au=9999-12-31")
    assert last_day.status_code == 400 and "entre l&#39;an 2000 et l&#39;an 2100" in last_day.text


async def test_unknown_filters_and_an_empty_need_are_refused_in_french(client: httpx.AsyncClient, rt: Runtime) -> None:
    net = await build(rt)
    await sign_in(client, net.prescriber)
    assert (await client.get("/orientations?statut=inconnu")).status_code == 400
    assert (await client.get("/orientations?boite=envoyees&page=2")).status_code == 200
    empty = await post_form(
        client, "/orientations/nouvelle", {"text": "", "address": "12 rue des Roses", "max_distance_km": "0,2"}
    )
    assert empty.status_code == 400 and "cochez au moins une thématique" in empty.text
    assert "de 0,5 à 200" in empty.text  # every field's error at once
    assert 'value="12 rue des Roses"' in empty.text  # the typed address stays in the form


async def test_a_member_of_two_structures_chooses_in_whose_name_they_send(
    client: httpx.AsyncClient, rt: Runtime
) -> None:
    net = await build(rt)
    both = await make_person(rt, "berthe.double@caf.example.fr", {net.caf: ["prescriber"], net.third: ["prescriber"]})
    await sign_in(client, both)
    form = await client.get(f"/orientations/nouvelle/{net.service_id}")
    assert 'name="sender_structure_id"' in form.text and "Centre social Bel-Air" in form.text
    missing = await post(client, f"/orientations/nouvelle/{net.service_id}", send_form(net.service_id))
    assert missing.status_code == 400 and "Choisissez la structure au nom de laquelle vous orientez." in missing.text
    chosen = await post(
        client,
        f"/orientations/nouvelle/{net.service_id}",
        send_form(net.service_id, sender_structure_id=str(net.third)),
    )
    assert "Orientation envoyée" in chosen.text
    row = await Referral.select(Referral.sender_structure).first()
    assert row is not None and row["sender_structure"] == net.third


async def test_a_slot_published_by_the_receiver_is_booked_from_the_sending_form(
    client: httpx.AsyncClient, rt: Runtime
) -> None:
    from referrals import slots

    net = await build(rt)
    receiver = await accounts.actor_for_user(net.receiver.id)
    command = slots.ScheduleCreate(
        service_id=net.service_id, weekday=3, start_time="14:00", end_time="15:00", length=30, seats=1
    )
    await slots.publish(rt, receiver, command)
    first, second = (await slots.free_slots([net.service_id], rt.now()))[net.service_id][:2]
    assert first.label.startswith("jeudi") and first.label.endswith("à 14 h") and second.label.endswith("à 14 h 30")

    await switch_to(client, net.prescriber)
    form_page = await client.get(f"/orientations/nouvelle/{net.service_id}")
    assert first.label in form_page.text and second.label in form_page.text
    value = f"{first.schedule_id}@{first.starts_at.isoformat()}"
    assert f'value="{value}"' in form_page.text
    sent = await post_form(client, f"/orientations/nouvelle/{net.service_id}", send_form(net.service_id, slot=value))
    assert sent.status_code == 200 and "Orientation envoyée" in sent.text
    assert first.label in sent.text  # the referral page shows the appointment

    again = await post_form(
        client,
        f"/orientations/nouvelle/{net.service_id}",
        send_form(net.service_id, slot=value, resident_name="Bob K."),
    )
    assert again.status_code == 409 and "vient d&#39;être pris" in again.text and "Bob K." in again.text
    assert await Referral.count() == 1

    await switch_to(client, net.receiver)
    day = await client.get(f"/orientations/creneaux?jour={first.starts_at.date().isoformat()}")
    assert f"Rendez-vous du {slots.when_in_french_day(first.starts_at.date())}" in day.text
    assert RESIDENT in day.text and "14 h" in day.text
    assert "le jeudi" in day.text and "de 14 h 00 à 15 h 00" in day.text  # the published schedule


async def test_publishing_slots_with_bad_hours_comes_back_with_the_errors(
    client: httpx.AsyncClient, rt: Runtime
) -> None:
    from referrals.tables import SlotSchedule

    net = await build(rt)
    await switch_to(client, net.receiver)
    form = {
        "service_id": str(net.service_id),
        "weekday": "3",
        "start_time": "15:00",
        "end_time": "14:00",
        "length": "5",
        "seats": "x",
    }
    refused = await post_form(client, "/orientations/creneaux", form)
    assert refused.status_code == 400 and "Un nombre entier." in refused.text
    refused = await post_form(client, "/orientations/creneaux", {**form, "seats": "2"})
    assert refused.status_code == 400
    assert (
        "La fin vient après le début." in refused.text and "Un créneau dure de 10 minutes à 4 heures." in refused.text
    )
    assert 'value="15:00"' in refused.text  # what was typed stays
    published = await post_form(
        client, "/orientations/creneaux", {**form, "start_time": "09:00", "length": "30", "seats": "2"}
    )
    assert published.status_code == 200 and "Créneaux publiés." in published.text
    assert await SlotSchedule.count() == 1


async def test_the_results_map_numbers_its_markers_like_the_list(client: httpx.AsyncClient, rt: Runtime) -> None:
    net = await build(rt)
    located = await make_service(
        net.third,
        "Permanence numérique de Bel-Air",
        thematiques=[DEMARCHES],
        accepts_referrals=True,
        places=[{"name": "Médiathèque", "commune": "Montclair", "latitude": 47.9012, "longitude": 1.9043}],
    )
    await sign_in(client, net.prescriber)
    await client.get("/orientations/nouvelle")
    results = await post(client, "/orientations/nouvelle", {"thematiques": [DEMARCHES]})
    assert results.status_code == 200
    numbers = re.findall(r'id="candidat-(\d+)".*?href="/annuaire/services/(\d+)"', results.text, re.S)
    position = {int(service_id): int(n) for n, service_id in numbers}
    assert set(position) == {net.service_id, located}
    data = json.loads(re.search(r'id="carte-resultats-donnees">(.*?)</script>', results.text, re.S).group(1))
    # only the located service has a marker, with its number in the list; the tiles are the directory's
    assert data["markers"] == [
        {
            "n": position[located],
            "lat": 47.9012,
            "lon": 1.9043,
            "name": "Permanence numérique de Bel-Air",
            "place": "Médiathèque",
        }
    ]
    assert data["origin"] is None and data["tiles"]["url"].endswith("{z}/{x}/{y}.png")
    assert '<script src="/static/js/route-map.js" defer></script>' in results.text
    assert 'id="carte-resultats" class="map" hidden' in results.text  # shown by the script only: the list is enough
    assert (await client.get("/static/js/route-map.js")).status_code == 200
