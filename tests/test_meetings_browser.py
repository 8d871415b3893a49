"""The meeting flow in a real Chromium over the demo town: the coordinator creates an event (a missing date
refused), invites, an invitee answers through the mailed link without a password (twice: refused), the coordinator
ticks who came, writes the minutes and an action item, which the next meeting's agenda then carries; the member's
"Réunions" page and the indicators' pages. axe-core on every page, screenshots at desktop and phone widths."""

from __future__ import annotations

import re
from collections.abc import Callable
from email.message import Message

import pytest
from playwright.sync_api import Page, expect

from tests.browser_support import (  # the shared fixtures (browser, live_server…) too
    AccessibilityAudit,
    LiveServer,
    TotpPhone,
    audit,
    browser,
    demo_user,
    live_server,
    new_page,
    phone,
    screenshot,
)
from tests.conftest import SmtpServer
from tests.test_referrals_browser import flash, sign_in

pytestmark = pytest.mark.browser

COORDINATOR = demo_user("coordination@demo.maillage.fr")
MANAGER = demo_user("referente.ccas@demo.maillage.fr")
TITLE = "Groupe de travail : accueil numérique"
ACTION = "Rédiger le guide d'accueil numérique"


def look(page: Page, audit: AccessibilityAudit, label: str, shot: str) -> None:
    audit.check(page, label)
    screenshot(page, shot)


def _body(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain" and not part.get_filename():
            return part.get_payload(decode=True).decode()  # type: ignore[union-attr]
    return ""


def test_the_meeting_flow(
    new_page: Callable[..., Page],
    audit: AccessibilityAudit,
    phone: TotpPhone,
    live_server: LiveServer,
    smtp_server: SmtpServer,
) -> None:
    smtp_server.inbox.messages.clear()
    coordinator = new_page()
    sign_in(coordinator, COORDINATOR, phone)
    coordinator.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Réunions").click()
    expect(coordinator.get_by_role("heading", level=1)).to_have_text("Réunions du réseau")
    expect(coordinator.get_by_role("link", name=re.compile(r"^Réunion du réseau, semestre"))).to_have_count(3)
    look(coordinator, audit, "réunions (coordinateur)", "reunions-liste")

    # the demo's last meeting: minutes, decisions and actions
    coordinator.get_by_role("link", name=re.compile(r"^Réunion du réseau, semestre \d{4}-S\d$")).last.click()
    expect(coordinator.get_by_label("Compte rendu de l'événement")).to_contain_text("Bilan du semestre")
    look(coordinator, audit, "réunion passée", "reunion-passee")

    # a new event: the missing date is refused, every error beside its field
    coordinator.goto("/reunions/nouvelle")
    coordinator.get_by_label("Type d'événement").select_option("working_group")
    coordinator.get_by_label("Titre", exact=True).fill(TITLE)
    coordinator.get_by_role("button", name="Créer l'événement").click()
    expect(coordinator.get_by_role("alert")).to_contain_text("un événement sans date ne peut pas être créé")
    expect(coordinator.get_by_label("Date", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(coordinator.get_by_label("Titre", exact=True)).to_have_value(TITLE)
    look(coordinator, audit, "nouvel événement : erreurs", "reunion-nouvelle-erreurs")
    today = live_server.call(_today)
    coordinator.get_by_label("Date", exact=True).fill(today)
    coordinator.get_by_label("Lieu", exact=True).fill("Salle 2, Maison de quartier des Tilleuls, 11 rue des Peupliers")
    coordinator.get_by_label("Ordre du jour").fill("Le guide d'accueil\nLes prochaines étapes")
    coordinator.get_by_role("button", name="Créer l'événement").click()
    flash(coordinator, "Événement créé")
    event_url = coordinator.url
    coordinator.get_by_role("button", name="Envoyer les invitations").click()
    flash(coordinator, "Invitations envoyées")
    look(coordinator, audit, "événement : invitations envoyées", "reunion-invitations")

    # the invitee answers from the mail, without a password; the link then refuses a second use
    live_server.deliver_mail()
    (message,) = [m for m in smtp_server.inbox.messages if m["To"] == MANAGER.email]
    assert any(part.get_filename() == "invitation.ics" for part in message.walk())
    found = re.search(r"/reunions/reponse/\S+", _body(message))
    assert found
    link = found.group(0)
    invitee = new_page()
    invitee.goto(link)
    expect(invitee.get_by_role("heading", level=1)).to_have_text(TITLE)
    look(invitee, audit, "réponse à l'invitation", "reunion-reponse")
    invitee.get_by_role("button", name="Oui, je viens").click()
    expect(invitee.get_by_role("status")).to_contain_text("Votre réponse est enregistrée")
    invitee.goto(link)
    expect(invitee.get_by_role("heading", level=1)).to_have_text("Lien expiré")
    expect(invitee.get_by_text("Ce lien a déjà servi")).to_be_visible()
    look(invitee, audit, "lien déjà utilisé", "reunion-reponse-deja")

    # on the day: who came, the minutes, an action item for the CCAS
    coordinator.goto(event_url)
    expect(coordinator.get_by_text(re.compile(r"Oui : 1\."))).to_be_visible()
    coordinator.get_by_role("link", name="Noter les présences").click()
    coordinator.get_by_label(re.compile(r"^Nadia Benali")).check()
    look(coordinator, audit, "présences", "reunion-presences")
    coordinator.get_by_role("button", name="Enregistrer les présences").click()
    flash(coordinator, "Présences enregistrées : 1")
    coordinator.get_by_label("Compte rendu de l'événement").fill("Le guide sera prêt pour la réunion de décembre.")
    coordinator.get_by_role("button", name="Enregistrer le compte rendu").click()
    flash(coordinator, "Compte rendu enregistré")
    coordinator.get_by_label("Intitulé").fill(ACTION)
    coordinator.get_by_label("Structure qui porte l'action").select_option(label="CCAS de Montclair-sur-Loire")
    coordinator.get_by_role("button", name="Ajouter").click()
    flash(coordinator, "Enregistré")
    expect(coordinator.get_by_role("rowheader", name=ACTION)).to_be_visible()
    look(coordinator, audit, "événement tenu", "reunion-tenue")

    # the next meeting's agenda carries the open action items, the new one included
    coordinator.goto("/reunions")
    coordinator.get_by_role("link", name=re.compile(r"^Réunion du réseau, semestre")).first.click()
    expect(
        coordinator.get_by_role("heading", name="Actions ouvertes reportées des réunions précédentes")
    ).to_be_visible()
    expect(coordinator.locator("li").filter(has_text=ACTION)).to_have_count(1)
    expect(coordinator.locator("ol li").last).to_contain_text("Suivi des actions encore ouvertes")
    look(coordinator, audit, "prochaine réunion : actions reportées", "reunion-prochaine")

    # the member's page: invitations and the structure's action items; the indicators
    member = new_page()
    sign_in(member, MANAGER, phone)
    member.goto("/reunions")
    expect(member.get_by_role("rowheader", name=re.compile(ACTION))).to_be_visible()
    look(member, audit, "réunions (membre)", "reunions-membre")
    member.get_by_role("link", name=re.compile(r"^Saisir les indicateurs de CCAS")).click()
    expect(member.get_by_role("heading", level=1)).to_have_text("Indicateurs de CCAS de Montclair-sur-Loire")
    member.get_by_label("Total de la structure").first.fill("douze")
    member.get_by_role("button", name="Enregistrer").click()
    expect(member.get_by_role("alert")).to_contain_text("Nombre entier attendu")
    look(member, audit, "indicateurs : saisie avec erreur", "indicateurs-saisie")
    coordinator.goto("/reunions/indicateurs")
    expect(coordinator.get_by_role("rowheader", name=re.compile("Nouvelles inscriptions à la CAF"))).to_be_visible()
    look(coordinator, audit, "indicateurs (coordinateur)", "indicateurs")


async def _today(rt) -> str:  # type: ignore[no-untyped-def]
    return rt.today().isoformat()
