"""The desk in a real Chromium, with axe on every state (issue 10, points 5, 7 and 8, the join flow): a merge
compared then confirmed, a service withdrawn without JavaScript through its confirmation page, a manager's
entry with its pending invitations, a request to join refused with a message, the journal filtered and paged.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from hub import journal
from hub.journal import Act
from hub.runtime import Runtime
from network.tables import DuplicateFlag, Structure
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
from tests.conftest import Inbox, make_structure
from tests.test_browser import CCAS, flash, nav, sign_in_demo

pytestmark = pytest.mark.browser

COORDINATOR = demo_user("coordination@demo.maillage.fr")
MANAGER = demo_user("referente.ccas@demo.maillage.fr")


def test_the_coordinator_compares_two_entries_before_merging(
    new_page: Callable[..., Page], audit: AccessibilityAudit, phone: TotpPhone, live_server: LiveServer
) -> None:
    async def a_pair(rt: Runtime) -> None:
        kept = await make_structure("Médiathèque Jean Zay", "BIB", phone="02 38 11 22 33")
        other = await make_structure("Mediatheque Jean-Zay", "BIB", website="https://mediatheque-jeanzay.example.fr")
        await DuplicateFlag.insert(DuplicateFlag(structure=kept, other=other, reason="name_commune", score=95.0))

    live_server.call(a_pair)
    page = new_page()
    sign_in_demo(page, COORDINATOR, phone)
    nav(page, "Coordination").click()
    page.get_by_role("link", name="Comparer et garder « Médiathèque Jean Zay »").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Fusionner deux fiches")
    expect(page.get_by_role("note")).to_contain_text("« Médiathèque Jean Zay » reste")
    table = page.get_by_role("table", name="Les deux fiches côte à côte")
    expect(table.get_by_role("row", name=re.compile("^Site web"))).to_contain_text(
        "vide : prendra « https://mediatheque-jeanzay.example.fr »"
    )
    expect(table.get_by_role("row", name=re.compile("^Services"))).to_be_visible()
    audit.check(page, "fusion : comparaison")
    screenshot(page, "fusion-comparaison")

    page.get_by_role("link", name="Garder plutôt « Mediatheque Jean-Zay »").click()
    expect(page.get_by_role("note")).to_contain_text("« Mediatheque Jean-Zay » reste")
    page.get_by_role("link", name="Garder plutôt « Médiathèque Jean Zay »").click()
    page.get_by_role("button", name=re.compile("^Confirmer : garder « Médiathèque Jean Zay »")).click()
    flash(page, "Structures fusionnées.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Médiathèque Jean Zay")

    async def statuses(rt: Runtime) -> dict[str, str]:
        rows = await Structure.select(Structure.name, Structure.status).where(Structure.name.like("M%diath%que Jean%"))
        return {row["name"]: row["status"] for row in rows}

    assert live_server.call(statuses) == {"Médiathèque Jean Zay": "active", "Mediatheque Jean-Zay": "closed"}


def test_a_service_is_withdrawn_without_javascript_after_a_confirmation_page(
    new_page: Callable[..., Page], audit: AccessibilityAudit, phone: TotpPhone
) -> None:
    page = new_page(java_script_enabled=False)
    sign_in_demo(page, MANAGER, phone)
    nav(page, "Ma structure").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(CCAS)
    page.get_by_role("link", name="Aide aux démarches administratives", exact=True).click()
    service_url = page.url
    page.get_by_role("link", name="Retirer de l'annuaire").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Retirer « Aide aux démarches administratives » de l'annuaire ?"
    )
    # axe and the screenshot run scripts: the same page in a browser with JavaScript, signed in as well
    seen = new_page()
    sign_in_demo(seen, MANAGER, phone)
    seen.goto(page.url)
    expect(seen.get_by_role("button", name="Confirmer le retrait")).to_be_visible()
    audit.check(seen, "retrait d'un service : confirmation")
    screenshot(seen, "retrait-service-confirmation")
    page.get_by_role("link", name="Annuler").click()
    expect(page).to_have_url(service_url)
    expect(page.get_by_text("Ce service est retiré de l'annuaire")).to_have_count(0)

    page.get_by_role("link", name="Retirer de l'annuaire").click()
    page.get_by_role("button", name="Confirmer le retrait").click()
    flash(page, "Service retiré de l'annuaire.")
    banner = page.get_by_role("status").filter(has_text="Ce service est retiré de l'annuaire")
    expect(banner).to_be_visible()
    banner.get_by_role("button", name="Remettre dans l'annuaire").click()
    flash(page, "Service de retour dans l'annuaire.")
    expect(page.get_by_role("link", name="Retirer de l'annuaire")).to_be_visible()


def test_a_manager_finds_their_entry_and_manages_pending_invitations(
    new_page: Callable[..., Page], audit: AccessibilityAudit, phone: TotpPhone, live_server: LiveServer, inbox: Inbox
) -> None:
    page = new_page()
    sign_in_demo(page, MANAGER, phone)
    nav(page, "Ma structure").click()
    expect(page.get_by_role("link", name="Modifier la fiche")).to_be_visible()
    page.get_by_role("link", name="Gérer les membres et inviter une personne").click()
    page.get_by_label("Adresse e-mail professionnelle").fill("jules.petit@ccas-montclair.example.fr")
    page.get_by_label("Rôle", exact=True).select_option("prescriber")
    page.get_by_role("button", name="Envoyer l'invitation", exact=True).click()
    flash(page, "Invitation envoyée.")
    invitations = page.get_by_role("table", name="Invitations en attente de réponse")
    expect(invitations).to_contain_text("jules.petit@ccas-montclair.example.fr")
    expect(invitations).to_contain_text(MANAGER.full_name)

    # the same address again: said beside the field, the address kept
    page.get_by_label("Adresse e-mail professionnelle").fill("jules.petit@ccas-montclair.example.fr")
    page.get_by_role("button", name="Envoyer l'invitation", exact=True).click()
    field = page.get_by_label("Adresse e-mail professionnelle")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_value("jules.petit@ccas-montclair.example.fr")
    expect(page.locator("#email-error")).to_contain_text("Une invitation attend déjà une réponse à cette adresse")
    audit.check(page, "membres : invitation déjà en attente")
    screenshot(page, "membres-invitation-en-attente")

    # on the entry: members, the pending invitation, resent from there
    nav(page, "Ma structure").click()
    team = page.get_by_role("region", name="Membres et invitations")
    expect(team).to_contain_text(MANAGER.full_name)
    team.get_by_role("button", name="Renvoyer l'invitation de jules.petit@ccas-montclair.example.fr").click()
    flash(page, "Invitation renvoyée.")
    expect(page.get_by_role("heading", level=1)).to_have_text(CCAS)
    audit.check(page, "fiche structure (référente) : membres et invitations")
    screenshot(page, "fiche-structure-referente")
    assert live_server.deliver_mail(at_least=2) >= 2
    assert len(inbox.to("jules.petit@ccas-montclair.example.fr")) == 2

    team = page.get_by_role("region", name="Membres et invitations")
    team.get_by_role("button", name="Annuler l'invitation de jules.petit@ccas-montclair.example.fr").click()
    flash(page, "Invitation annulée")
    expect(page.get_by_role("region", name="Membres et invitations")).not_to_contain_text("jules.petit")


def test_the_coordinator_refuses_a_request_to_join_with_a_message(
    new_page: Callable[..., Page], audit: AccessibilityAudit, phone: TotpPhone, live_server: LiveServer, inbox: Inbox
) -> None:
    visitor = new_page()
    visitor.goto("/annuaire/rejoindre")
    expect(visitor.get_by_label("Type de structure")).to_have_value("")  # no default: the applicant chooses
    visitor.get_by_label("Nom de la structure").fill("Collectif Les Mains Libres")
    visitor.get_by_label("Type de structure").select_option("ASSO")
    visitor.get_by_label("Adresse", exact=True).fill("12 rue Basse")
    visitor.get_by_label("Code postal", exact=True).fill("45990")
    visitor.get_by_label("Commune", exact=True).fill("Montclair-sur-Loire")
    visitor.get_by_label("Adresse e-mail du futur référent").fill("contact@mains-libres.example.fr")
    visitor.get_by_role("button", name=re.compile("Envoyer")).click()
    if visitor.get_by_text(
        "Adresse introuvable sur la carte", exact=False
    ).count():  # unknown to the gazetteer: sent again as typed
        visitor.get_by_role("button", name=re.compile("Envoyer")).click()
    expect(visitor.get_by_text("Adresse introuvable sur la carte", exact=False)).to_have_count(0)

    page = new_page()
    sign_in_demo(page, COORDINATOR, phone)
    page.goto("/annuaire/validation")
    card = page.get_by_role("listitem").filter(has_text="Collectif Les Mains Libres")
    card.get_by_text("Refuser la demande").click()
    card.get_by_role("button", name="Refuser et envoyer le message").click()
    card = page.get_by_role("listitem").filter(has_text="Collectif Les Mains Libres")
    expect(card.get_by_label("Message au demandeur")).to_have_attribute("aria-invalid", "true")
    expect(card).to_contain_text("Expliquez en quelques mots pourquoi la demande n'est pas validée.")
    audit.check(page, "demandes d'adhésion : refus sans message")
    screenshot(page, "adhesion-refus-erreur")
    card.get_by_label("Message au demandeur").fill(
        "Le réseau accueille les structures déclarées : envoyez-nous votre numéro RNA."
    )
    card.get_by_role("button", name="Refuser et envoyer le message").click()
    flash(page, "Demande refusée.")
    expect(page.get_by_role("listitem").filter(has_text="Collectif Les Mains Libres")).to_have_count(0)
    assert live_server.deliver_mail(at_least=1) >= 1
    [mail] = inbox.to("contact@mains-libres.example.fr")
    assert "numéro RNA" in mail.get_payload(decode=True).decode()  # type: ignore[union-attr]


def test_the_journal_is_filtered_and_paged(
    new_page: Callable[..., Page], audit: AccessibilityAudit, phone: TotpPhone, live_server: LiveServer
) -> None:
    async def a_busy_month(rt: Runtime) -> None:
        ccas = await Structure.select(Structure.id).where(Structure.name == CCAS).first()
        start = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
        for n in range(70):
            act = Act("structure_confirmed", None, ccas["id"], "structure", ccas["id"])
            await journal.append_signed(rt.secrets.journal_key, act, start + timedelta(hours=10 * n))

    live_server.call(a_busy_month)
    page = new_page()
    sign_in_demo(page, COORDINATOR, phone)
    nav(page, "Journal").click()
    page.get_by_label("Du", exact=True).fill("2026-09-01")
    page.get_by_label("Au (inclus)", exact=True).fill("2026-09-30")
    page.get_by_label("Structure (nom ou partie du nom)").fill("ccas")
    page.get_by_label("Action", exact=True).select_option(label="Fiche de structure confirmée à jour")
    page.get_by_role("button", name="Filtrer").click()
    table = page.get_by_role("table", name=re.compile("Actions trouvées"))
    expect(table.locator("tbody tr")).to_have_count(50)
    expect(table.locator("tbody tr").first).to_contain_text("Fiche de structure confirmée à jour")
    expect(table.locator("tbody tr").first.get_by_role("link", name=CCAS)).to_be_visible()
    expect(page.get_by_label("Structure (nom ou partie du nom)")).to_have_value("ccas")
    audit.check(page, "journal filtré")
    screenshot(page, "journal-filtre")

    page.get_by_role("navigation", name="Pages du journal").get_by_role("link", name="Entrées plus anciennes").click()
    expect(table.locator("tbody tr")).to_have_count(20)  # 70 in September, 50 on the first page
    expect(page.get_by_label("Action", exact=True)).to_have_value("structure_confirmed")
    audit.check(page, "journal filtré, page 2")
    page.get_by_role("link", name="Entrées plus récentes").click()
    expect(table.locator("tbody tr")).to_have_count(50)

    page.get_by_label("Du", exact=True).fill("2026-09-30")
    page.get_by_label("Au (inclus)", exact=True).fill("2026-09-01")
    page.get_by_role("button", name="Filtrer").click()
    expect(page.get_by_role("alert")).to_contain_text("La date de fin vient avant la date de début.")
    expect(page.get_by_label("Au (inclus)", exact=True)).to_have_attribute("aria-invalid", "true")
    audit.check(page, "journal : filtres invalides")
    screenshot(page, "journal-filtres-invalides")
