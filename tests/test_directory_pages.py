"""Directory pages: public structure and service pages, editing by managers, joining and approval."""

from __future__ import annotations

import html
from datetime import timedelta

from hub import jobs
from hub.tables import JournalEntry, Membership
from network.tables import Place, Service, Structure
from tests.conftest import make_person, make_structure, post_form, sign_in

GOOD_STRUCTURE = {
    "name": "Centre social des Tilleuls",
    "kind": "CS",
    "siret": "13003013300016",
    "address": "8 avenue des Tilleuls",
    "postal_code": "45990",
    "commune": "Montclair-sur-Loire",
    "latitude": "47.89",
    "longitude": "2.13",
    "opening_hours": "Mo-Fr 08:30-12:30,14:00-17:00; PH off",
    "email": "accueil@cs-tilleuls.example.fr",
}


async def test_structure_page_writes_hours_in_french_and_freshness(client, rt):
    sid = await make_structure()
    await Structure.update({Structure.opening_hours: "Mo-Fr 08:30-12:30; Sa 09:00-12:00"}).where(Structure.id == sid)
    page = await client.get(f"/annuaire/structures/{sid}")
    assert page.status_code == 200
    assert "Lundi" in page.text and "8 h 30 à 12 h 30" in page.text and "Dimanche" in page.text
    assert "Jamais confirmée" in page.text


async def test_closed_structure_is_hidden_from_the_public(client, rt):
    sid = await make_structure()
    await Structure.update({Structure.status: "closed"}).where(Structure.id == sid)
    assert (await client.get(f"/annuaire/structures/{sid}")).status_code == 404


async def test_manager_edits_own_structure_but_not_another(client, rt):
    mine, other = await make_structure("Structure A"), await make_structure("Structure B")
    manager = await make_person(rt, "nadia@a.example.fr", {mine: ["manager"]})
    await sign_in(client, manager)
    response = await post_form(client, f"/annuaire/structures/{mine}/modifier", GOOD_STRUCTURE)
    assert "Fiche enregistrée." in response.text
    row = await Structure.select().where(Structure.id == mine).first()
    assert row["name"] == "Centre social des Tilleuls" and row["siret"] == "13003013300016"
    assert row["confirmed_on"] is not None
    refused = await post_form(client, f"/annuaire/structures/{other}/modifier", GOOD_STRUCTURE)
    assert refused.status_code == 403
    assert (await Structure.select(Structure.name).where(Structure.id == other).first())["name"] == "Structure B"


async def test_bad_fields_are_explained_in_french_and_nothing_changes(client, rt):
    sid = await make_structure("Structure A")
    manager = await make_person(rt, "nadia@a.example.fr", {sid: ["manager"]})
    await sign_in(client, manager)
    bad = {
        **GOOD_STRUCTURE,
        "siret": "12345678901234",
        "postal_code": "4599",
        "latitude": "95",
        "opening_hours": "lundi matin",
        "website": "pas une url",
    }
    response = await post_form(client, f"/annuaire/structures/{sid}/modifier", bad)
    assert response.status_code == 400
    text = html.unescape(response.text)
    for message in (
        "SIRET n'est pas valide",
        "code postal compte 5 chiffres",
        "latitude doit être comprise",
        "Horaires illisibles",
        "Adresse web invalide",
    ):
        assert message in text
    assert (await Structure.select(Structure.name).where(Structure.id == sid).first())["name"] == "Structure A"


async def test_manager_adds_a_service_with_a_place_and_confirms_the_entry(client, rt):
    sid = await make_structure()
    manager = await make_person(rt, "nadia@a.example.fr", {sid: ["manager"]})
    await sign_in(client, manager)
    response = await post_form(
        client,
        f"/annuaire/structures/{sid}/services/nouveau",
        {
            "name": "Aide aux démarches en ligne",
            "description": "Un conseiller vous aide à faire vos démarches.",
            "thematiques": "numerique--acceder-a-des-services-en-ligne",
            "fees": "gratuit",
            "languages": "fr, ar",
            "accepts_referrals": "on",
            "referral_email": "orientations@cs.example.fr",
            "opening_hours": "Tu 14:00-17:00",
        },
    )
    assert "Service enregistré." in response.text and "Mardi" in response.text
    service = await Service.select().output(load_json=True).first()
    assert service["languages"] == ["ar", "fr"] and service["accepts_referrals"]
    added = await post_form(
        client,
        f"/annuaire/structures/{sid}/services/{service['id']}/lieux",
        {"name": "Médiathèque", "commune": "Montclair-sur-Loire", "opening_hours": "We 10:00-12:00"},
    )
    assert "Lieu ajouté." in added.text
    assert await Place.count() == 1
    confirmed = await post_form(client, f"/annuaire/structures/{sid}/confirmer")
    assert "confirmée à jour" in confirmed.text and "À jour" in confirmed.text
    actions = {r["action"] for r in await JournalEntry.select(JournalEntry.action)}
    assert {"service_created", "place_added", "structure_confirmed"} <= actions


async def test_service_taking_referrals_needs_a_team_address(client, rt):
    sid = await make_structure()
    manager = await make_person(rt, "nadia@a.example.fr", {sid: ["manager"]})
    await sign_in(client, manager)
    response = await post_form(
        client,
        f"/annuaire/structures/{sid}/services/nouveau",
        {"name": "Permanence", "accepts_referrals": "on", "thematiques": "inconnue"},
    )
    assert response.status_code == 400
    assert (
        "indiquez l'adresse e-mail de l'équipe" in html.unescape(response.text) and "Valeur inconnue" in response.text
    )
    assert await Service.count() == 0


async def test_join_request_is_approved_by_the_coordinator_who_invites_the_manager(client, rt, inbox):
    response = await post_form(
        client, "/annuaire/rejoindre", {**GOOD_STRUCTURE, "contact_email": "direction@cs.example.fr"}
    )
    assert "Votre demande est transmise" in response.text
    pending = await Structure.select().where(Structure.status == "pending").first()
    assert pending is not None
    assert (await client.get(f"/annuaire/structures/{pending['id']}")).status_code == 404  # hidden until approved

    coordinator = await make_person(rt, "camille@reseau.example.fr", coordinator=True)
    await sign_in(client, coordinator)
    listing = await client.get("/annuaire/validation")
    assert "Centre social des Tilleuls" in listing.text
    # a mistyped address comes back as typed, its error beside it; the structure still waits
    mistyped = await post_form(client, f"/annuaire/structures/{pending['id']}/valider", {"email": "direction@cs"})
    text = html.unescape(mistyped.text)
    assert mistyped.status_code == 400 and 'value="direction@cs"' in text
    assert f'id="email-{pending["id"]}-error"' in text and 'aria-invalid="true"' in text
    assert (await Structure.select(Structure.status).where(Structure.id == pending["id"]).first())[
        "status"
    ] == "pending"
    approved = await post_form(
        client, f"/annuaire/structures/{pending['id']}/valider", {"email": "direction@cs.example.fr"}
    )
    assert "Structure validée" in approved.text
    assert (await Structure.select(Structure.status).where(Structure.id == pending["id"]).first())["status"] == "active"
    await jobs.tick(rt)
    assert inbox.to("direction@cs.example.fr")
    assert await Membership.count() == 0  # the role comes when the invitation is accepted


async def test_coordinator_closes_a_structure(client, rt):
    sid = await make_structure()
    coordinator = await make_person(rt, "camille@reseau.example.fr", coordinator=True)
    await sign_in(client, coordinator)
    response = await post_form(client, f"/annuaire/structures/{sid}/fermer")
    assert "Structure fermée." in response.text
    assert (await Structure.select(Structure.status).where(Structure.id == sid).first())["status"] == "closed"


async def test_managers_are_reminded_to_confirm_a_stale_entry_once_a_month(app, rt, inbox):
    stale, fresh = await make_structure("Structure ancienne"), await make_structure("Structure à jour")
    today = rt.now().date()
    await Structure.update({Structure.confirmed_on: today - timedelta(days=200)}).where(Structure.id == stale)
    await Structure.update({Structure.confirmed_on: today - timedelta(days=10)}).where(Structure.id == fresh)
    await make_person(rt, "nadia@ancienne.example.fr", {stale: ["manager"]})
    await make_person(rt, "tom@ajour.example.fr", {fresh: ["manager"]})

    assert (await jobs.tick(rt)).work["directory.reminders"] == 1
    await jobs.tick(rt)  # delivers
    [message] = inbox.to("nadia@ancienne.example.fr")
    assert "Structure ancienne" not in message["Subject"]  # subjects carry nothing but the question
    assert f"/annuaire/structures/{stale}" in message.get_payload(decode=True).decode()
    assert not inbox.to("tom@ajour.example.fr")
    assert (await jobs.tick(rt)).work["directory.reminders"] == 0  # not every tick
    rt.advance_clock(timedelta(days=31))
    assert (await jobs.tick(rt)).work["directory.reminders"] == 1  # a month later, still unconfirmed: asked again


async def test_a_service_page_says_where_to_go_with_the_one_set_of_hours_that_holds_there(client, rt):
    structure = await make_structure("Centre social du Port")
    await Structure.update(
        {
            Structure.address: "4 quai du Port",
            Structure.postal_code: "45990",
            Structure.commune: "Montclair-sur-Loire",
            Structure.opening_hours: "Mo-Fr 09:00-17:00",
            Structure.phone: "01 99 00 20 20",
            Structure.latitude: 47.9,
            Structure.longitude: 2.1,
        }
    ).where(Structure.id == structure)
    at_home = Service(structure=structure, name="Accueil social", opening_hours="Tu 14:00-16:00")
    await at_home.save()
    page = (await client.get(f"/annuaire/services/{at_home.id}")).text
    assert "4 quai du Port, 45990 Montclair-sur-Loire" in page and "Horaires du service (Centre social du Port)" in page
    assert "Horaires de la structure" not in page  # the service's hours replace the structure's
    assert 'href="tel:0199002020"' in page and "Téléphone de la structure" in page
    assert 'id="carte-service"' in page and "openstreetmap.org/?mlat=47.90000" in page

    roaming = Service(structure=structure, name="Permanence mobile")
    await roaming.save()
    await Place(
        service=roaming.id,
        name="Marché des Aubiers",
        address="Place du Marché",
        postal_code="45990",
        commune="Montclair-sur-Loire",
        neighbourhood="Les Aubiers",
        opening_hours="Tu 09:00-12:00",
        itinerant=True,
    ).save()
    await Place(
        service=roaming.id, name="Gare", address="Hall de la gare", postal_code="45990", commune="Montclair-sur-Loire"
    ).save()
    page = html.unescape((await client.get(f"/annuaire/services/{roaming.id}")).text)
    assert "Horaires de ce lieu (Marché des Aubiers)" in page and "Horaires de la structure (Gare)" in page
    assert "4 quai du Port" not in page  # its places, not the structure's address
    assert "Ce service est itinérant" in page and "quartier Les Aubiers" in page


async def test_a_service_nobody_can_reach_is_flagged_to_its_managers_and_the_coordinator(client, rt):
    structure = await make_structure("Association sans adresse")
    lost = Service(structure=structure, name="Aide fantôme")
    await lost.save()
    page = html.unescape((await client.get(f"/annuaire/services/{lost.id}")).text)
    assert "Ce service ne peut pas être joint" in page and "La coordination du réseau en est avertie" in page
    await sign_in(client, await make_person(rt, "coord@reseau.example.fr", coordinator=True))
    desk = html.unescape((await client.get("/annuaire/coordination")).text)
    assert "Services que personne ne peut joindre" in desk and f'/annuaire/services/{lost.id}">Aide fantôme' in desk
