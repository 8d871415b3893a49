"""The directory's desk is safe to use and leads managers to their entry (issue 10, points 5 and 7, the join flow):
a merge compared side by side then confirmed, a withdrawal confirmed on the server, pending invitations listed,
resent and cancelled, a second invitation refused with a message, a request to join refused with a mailed message.
"""

from __future__ import annotations

import html
from email.header import decode_header, make_header

from hub import jobs
from hub.tables import AccessLink, JournalEntry, Membership, OutboxMessage
from network.tables import DuplicateFlag, Place, Service, Structure
from tests.conftest import make_person, make_service, make_structure, post_form, sign_in

GOOD_JOIN = {
    "name": "Association Lire et Écrire",
    "kind": "ASSO",
    "address": "3 rue des Lilas",
    "postal_code": "45990",
    "commune": "Montclair-sur-Loire",
    "contact_email": "direction@lire-ecrire.example.fr",
    "latitude": "47.9025",  # placed by hand: the test's empty directory cannot find the address
    "longitude": "1.9090",
}


def _text(response) -> str:
    return html.unescape(response.text)


async def _coordinator(client, rt) -> None:
    await sign_in(client, await make_person(rt, "camille@reseau.example.fr", coordinator=True))


async def _deliver(rt) -> None:
    report = await jobs.tick(rt)
    assert report.mails_postponed == 0


# ---------------------------------------------------------------- merge: compare, then confirm
async def test_a_merge_shows_both_entries_side_by_side_and_waits_for_confirmation(client, rt):
    keep = await make_structure("Centre social des Tilleuls", phone="", email="accueil@tilleuls.example.fr")
    drop = await make_structure("Centre Social des Tilleuls", phone="02 38 00 00 01", email="")
    svc = await make_service(drop, "Atelier numérique", places=[{"name": "Médiathèque", "commune": "Montclair"}])
    await make_service(drop, "Permanence CAF")
    await make_person(rt, "nadia@tilleuls.example.fr", {drop: ["manager"]})
    await DuplicateFlag.insert(DuplicateFlag(structure=keep, other=drop, reason="name_commune", score=97.0))
    flag_id = (await DuplicateFlag.select(DuplicateFlag.id).first())["id"]
    await _coordinator(client, rt)

    desk = _text(await client.get("/annuaire/coordination"))
    assert f'href="/annuaire/doublons/{flag_id}/fusionner?garder=structure"' in desk

    # a merge posted without the confirmation (an old form, a stray button) only leads to the comparison
    unconfirmed = await post_form(client, f"/annuaire/doublons/{flag_id}/fusionner", {"keep": "structure"})
    assert unconfirmed.url.path == f"/annuaire/doublons/{flag_id}/fusionner"
    assert (await Structure.select(Structure.status).where(Structure.id == drop).first())["status"] == "active"

    page = _text(unconfirmed)
    assert "« Centre social des Tilleuls » reste" in page
    assert "Reste : " in page and "Fermée : " in page
    rows = {
        label: cells
        for label, cells in (
            ("Téléphone", "<em>vide : prendra « 02 38 00 00 01 »</em></td>\n      <td>02 38 00 00 01</td>"),
            ("Services", "<td>0</td><td>2 (passent à la fiche gardée)</td>"),
            ("Lieux des services", "<td>0</td><td>1</td>"),
            ("Membres", "<td>0</td><td>1</td>"),
        )
    }
    for label, cells in rows.items():
        assert f'<th scope="row">{label}</th>' in page and cells in page, label
    assert "Confirmer : garder « Centre social des Tilleuls » et fermer l'autre" in page

    # the other way round is one link away, and says so
    swapped = _text(await client.get(f"/annuaire/doublons/{flag_id}/fusionner?garder=other"))
    assert "« Centre Social des Tilleuls » reste" in swapped

    done = await post_form(
        client, f"/annuaire/doublons/{flag_id}/fusionner", {"keep": "structure", "confirmation": "oui"}
    )
    assert "Structures fusionnées" in _text(done) and done.url.path == f"/annuaire/structures/{keep}"
    dropped = await Structure.select().where(Structure.id == drop).first()
    assert dropped["status"] == "closed" and dropped["merged_into"] == keep
    assert (await Service.select(Service.structure).where(Service.id == svc).first())["structure"] == keep
    assert (await Structure.select(Structure.phone).where(Structure.id == keep).first())["phone"] == "02 38 00 00 01"
    assert await Place.count() == 1
    assert (await client.get(f"/annuaire/doublons/{flag_id}/fusionner")).status_code == 404  # decided: gone


# ---------------------------------------------------------------- withdrawing a service, confirmed on the server
async def test_withdrawing_a_service_without_javascript_asks_on_a_page_first(client, rt):
    sid = await make_structure()
    service = await make_service(sid, "Aide aux démarches en ligne")
    await sign_in(client, await make_person(rt, "nadia@tilleuls.example.fr", {sid: ["manager"]}))
    close = f"/annuaire/structures/{sid}/services/{service}/fermer"

    asked = await post_form(client, close)  # the bare form: no confirmation sent
    assert asked.url.path == close and asked.status_code == 200
    page = _text(asked)
    assert "Retirer « Aide aux démarches en ligne » de l'annuaire ?" in page
    assert '<input type="hidden" name="confirmation" value="oui">' in page
    assert (await Service.select(Service.is_active).where(Service.id == service).first())["is_active"]
    assert not await JournalEntry.exists().where(JournalEntry.action == "service_closed")

    done = await post_form(client, close, {"confirmation": "oui"})
    assert done.url.path == f"/annuaire/services/{service}"
    assert "Ce service est retiré de l'annuaire" in _text(done) and "Remettre dans l'annuaire" in _text(done)
    assert not (await Service.select(Service.is_active).where(Service.id == service).first())["is_active"]
    again = _text(await client.get(close))
    assert "Ce service est déjà retiré de l'annuaire." in again


# ---------------------------------------------------------------- managers: their entry, members, invitations
async def test_my_structure_leads_to_the_entry_with_members_and_pending_invitations(client, rt, inbox):
    sid = await make_structure("CCAS de Montclair", "CCAS")
    manager = await make_person(rt, "nadia.ferhat@ccas.example.fr", {sid: ["manager"]})
    await sign_in(client, manager)
    home = _text(await client.get("/"))
    assert f'href="/annuaire/structures/{sid}"' in home and ">Ma structure<" in home

    sent = await post_form(client, f"/structures/{sid}/invitations", {"email": "lea@ccas.example.fr", "role": "aidant"})
    assert "Invitation envoyée" in _text(sent)
    entry = _text(await client.get(f"/annuaire/structures/{sid}"))
    assert "Modifier la fiche" in entry and "Membres et invitations" in entry
    assert "<li>Nadia Ferhat · Référent de structure</li>" in entry
    assert "<td>lea@ccas.example.fr</td><td>Aidant</td>" in entry
    assert "<td>Nadia Ferhat</td>" in entry  # who sent it
    assert 'Renvoyer<span class="visually-hidden"> l\'invitation de lea@ccas.example.fr</span>' in entry

    # a second invitation to the same address: said beside the field, and no second pending link
    twice = await post_form(
        client, f"/structures/{sid}/invitations", {"email": "LEA@ccas.example.fr", "role": "prescriber"}
    )
    assert twice.status_code == 409
    page = _text(twice)
    assert "Une invitation attend déjà une réponse à cette adresse" in page
    assert 'value="LEA@ccas.example.fr"' in page  # the form keeps what was typed
    assert await AccessLink.count().where(AccessLink.email == "lea@ccas.example.fr") == 1

    await _deliver(rt)
    [first_mail] = inbox.to("lea@ccas.example.fr")
    first_link = inbox.link(first_mail, "/invitation/")
    invitation_id = (await AccessLink.select(AccessLink.id).first())["id"]

    # resent from the entry: a new link, the old one stops working, back on the entry
    resent = await post_form(
        client,
        f"/structures/{sid}/invitations/{invitation_id}/renvoyer",
        {"retour": f"/annuaire/structures/{sid}#equipe"},
    )
    assert resent.url.path == f"/annuaire/structures/{sid}" and "Invitation renvoyée" in _text(resent)
    await _deliver(rt)
    assert len(inbox.to("lea@ccas.example.fr")) == 2
    second_link = inbox.link(inbox.to("lea@ccas.example.fr")[1], "/invitation/")
    assert second_link != first_link
    assert (await client.get(first_link)).status_code == 410
    assert (await client.get(second_link)).status_code == 200

    # cancelled from the members page: the link dies, the list says so, the journal keeps it
    members = _text(await client.get(f"/structures/{sid}/membres"))
    assert "lea@ccas.example.fr" in members and "Invitations en attente de réponse" in members
    revoked = await post_form(client, f"/structures/{sid}/invitations/{invitation_id}/annuler")
    assert revoked.url.path == f"/structures/{sid}/membres" and "Invitation annulée" in _text(revoked)
    assert "Aucune invitation en attente." in _text(revoked)
    assert (await client.get(second_link)).status_code == 410
    actions = {row["action"] for row in await JournalEntry.select(JournalEntry.action)}
    assert {"invitation_sent", "invitation_resent", "invitation_revoked"} <= actions
    # cancelled: a new invitation to the same address is welcome again
    again = await post_form(
        client, f"/structures/{sid}/invitations", {"email": "lea@ccas.example.fr", "role": "aidant"}
    )
    assert "Invitation envoyée" in _text(again)


async def test_another_structure_s_invitation_cannot_be_resent_or_cancelled(client, rt):
    a, b = await make_structure("Structure A"), await make_structure("Structure B")
    await sign_in(client, await make_person(rt, "nadia@a.example.fr", {a: ["manager"]}))
    await post_form(client, f"/structures/{a}/invitations", {"email": "lea@a.example.fr", "role": "aidant"})
    invitation_id = (await AccessLink.select(AccessLink.id).first())["id"]
    await post_form(client, "/deconnexion")
    await sign_in(client, await make_person(rt, "bruno@b.example.fr", {b: ["manager"]}))
    for verb in ("renvoyer", "annuler"):
        assert (await post_form(client, f"/structures/{b}/invitations/{invitation_id}/{verb}")).status_code == 404
        assert (await post_form(client, f"/structures/{a}/invitations/{invitation_id}/{verb}")).status_code == 403
    assert await AccessLink.count() == 1 and await OutboxMessage.count() == 1


# ---------------------------------------------------------------- the join flow
async def test_the_join_form_has_no_default_kind(client, rt):
    form = _text(await client.get("/annuaire/rejoindre"))
    assert '<option value="" selected>Choisissez le type de structure</option>' in form
    missing = await post_form(client, "/annuaire/rejoindre", {**GOOD_JOIN, "kind": ""})
    assert missing.status_code == 400 and "Choisissez un type de structure dans la liste." in _text(missing)
    assert 'value="Association Lire et Écrire"' in _text(missing)
    assert await Structure.count() == 0


async def test_the_coordinator_refuses_a_request_with_a_message_mailed_to_the_applicant(client, rt, inbox):
    asked = await post_form(client, "/annuaire/rejoindre", {**GOOD_JOIN, "email": "accueil@lire-ecrire.example.fr"})
    assert asked.status_code == 200
    sid = (await Structure.select(Structure.id).first())["id"]
    await _coordinator(client, rt)
    requests = _text(await client.get("/annuaire/validation"))
    assert 'value="direction@lire-ecrire.example.fr"' in requests  # the applicant, not the structure's desk
    assert "Refuser la demande" in requests

    empty = await post_form(client, f"/annuaire/structures/{sid}/refuser", {"message": "   "})
    assert empty.status_code == 400
    assert "Expliquez en quelques mots pourquoi la demande n'est pas validée." in _text(empty)
    too_long = await post_form(client, f"/annuaire/structures/{sid}/refuser", {"message": "x" * 2001})
    assert too_long.status_code == 400 and "ne doit pas dépasser 2000 caractères" in _text(too_long)
    assert 'value="' not in _text(too_long).split('name="message"')[1][:20]  # a textarea, its text kept inside
    assert (await Structure.select(Structure.status).where(Structure.id == sid).first())["status"] == "pending"
    assert await OutboxMessage.count() == 0

    message = "Votre association n'intervient pas sur notre territoire.\nÉcrivez-nous si elle ouvre une antenne ici."
    refused = await post_form(client, f"/annuaire/structures/{sid}/refuser", {"message": message})
    assert "Demande refusée" in _text(refused) and "Aucune demande en attente." in _text(refused)
    row = await Structure.select(Structure.status, Structure.contact_email).where(Structure.id == sid).first()
    assert row == {"status": "closed", "contact_email": ""}  # closed, and the applicant's address forgotten
    await _deliver(rt)
    [mail] = inbox.to("direction@lire-ecrire.example.fr")
    subject = str(make_header(decode_header(mail["Subject"])))
    assert subject == "Votre demande pour rejoindre le réseau sur Maillage"  # nothing personal in it
    body = mail.get_payload(decode=True).decode()
    assert "Association Lire et Écrire" in body and "n'intervient pas sur notre territoire" in body
    assert "ouvre une antenne ici" in body
    entry = await JournalEntry.select().where(JournalEntry.action == "structure_join_refused").first()
    assert entry["structure_id"] == sid and "territoire" not in entry["details"]
    # decided: no second refusal, and the same request may be sent again
    assert (await post_form(client, f"/annuaire/structures/{sid}/refuser", {"message": message})).status_code == 409
    await post_form(client, "/deconnexion")
    assert (await post_form(client, "/annuaire/rejoindre", GOOD_JOIN)).status_code == 200
    assert await Structure.count().where(Structure.status == "pending") == 1


async def test_approval_invites_the_applicant_and_forgets_the_contact(client, rt):
    await post_form(client, "/annuaire/rejoindre", {**GOOD_JOIN, "email": "accueil@lire-ecrire.example.fr"})
    sid = (await Structure.select(Structure.id).first())["id"]
    await _coordinator(client, rt)
    await post_form(client, f"/annuaire/structures/{sid}/valider", {"email": "direction@lire-ecrire.example.fr"})
    row = await Structure.select(Structure.status, Structure.contact_email).where(Structure.id == sid).first()
    assert row == {"status": "active", "contact_email": ""}
    assert await AccessLink.exists().where(AccessLink.email == "direction@lire-ecrire.example.fr")
    assert not await Membership.exists()
