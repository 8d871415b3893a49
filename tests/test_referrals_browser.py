"""Referrals' pages in a real Chromium over the demo town: a prescriber routes and sends, the receiving CCAS accepts
then closes, the prescriber sees the outcome, the resident's status page says so; axe-core on every page, and
screenshots at desktop and phone widths (tests/browser_support.py)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from hub import demo
from tests.browser_support import (  # the shared fixtures (browser, live_server…) too
    AccessibilityAudit,
    TotpPhone,
    audit,
    browser,
    demo_user,
    live_server,
    new_page,
    phone,
    screenshot,
)

pytestmark = pytest.mark.browser

PRESCRIBER = demo_user("prescripteur.caf@demo.maillage.fr")
MANAGER = demo_user("referente.ccas@demo.maillage.fr")
COORDINATOR = demo_user("coordination@demo.maillage.fr")
DROITS = "difficultes-administratives-ou-juridiques--accompagnement-pour-lacces-aux-droits"
CCAS_SERVICE = "Aide aux démarches administratives"
CCAS = "CCAS de Montclair-sur-Loire"
RESIDENT = "Jeanne T."


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (0, 0, 145)).save(buffer, "PNG")
    return buffer.getvalue()


def sign_in(page: Page, user: demo.DemoUser, phone: TotpPhone) -> None:
    page.goto("/connexion")
    page.get_by_label("Adresse e-mail").fill(user.email)
    page.get_by_label("Mot de passe", exact=True).fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    if user.needs_totp:
        expect(page).to_have_url(re.compile(r"/connexion/code$"))
        page.get_by_label("Code à 6 chiffres, ou code de secours").fill(phone.code(phone.secrets[user.email]))
        page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("status").filter(has_text="Vous êtes connecté.")).to_be_visible()


def flash(page: Page, text: str) -> None:
    expect(page.locator("main [role=status]").filter(has_text=text)).to_be_visible()


def look(page: Page, audit: AccessibilityAudit, label: str, shot: str) -> None:
    audit.check(page, label)
    screenshot(page, shot)


def test_a_referral_from_routing_to_its_outcome(
    new_page: Callable[..., Page], audit: AccessibilityAudit, phone: TotpPhone
) -> None:
    prescriber = new_page()
    sign_in(prescriber, PRESCRIBER, phone)
    prescriber.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Orientations").click()
    expect(prescriber.get_by_role("heading", level=1)).to_have_text("Orientations")
    look(prescriber, audit, "orientations reçues (prescripteur)", "orientations-boite")

    # routing: the need, the place (typed, posted), the constraints; the results on the same page
    prescriber.get_by_role("link", name="Orienter une personne").click()
    expect(prescriber).to_have_url(re.compile(r"/orientations/nouvelle$"))
    look(prescriber, audit, "orienter : formulaire", "orientations-nouvelle")
    prescriber.locator(f"#thematiques-{DROITS}").check()
    prescriber.get_by_label("Adresse, rue, commune ou quartier (facultatif)").fill("Montclair-sur-Loire")
    prescriber.get_by_label("mardi matin").check()
    prescriber.get_by_role("button", name="Chercher les services").click()
    expect(prescriber.get_by_role("heading", name=re.compile(r"services? conseillés?"))).to_be_visible()
    assert "Montclair" not in prescriber.url  # the typed place never goes into a URL
    card = prescriber.locator("li.candidate").filter(has_text=CCAS_SERVICE).filter(has_text=CCAS)
    expect(card).to_have_count(1)
    expect(card.get_by_text("points sur 100")).to_be_visible()
    look(prescriber, audit, "orienter : résultats", "orientations-resultats")
    # the map (an enhancement): each marker numbered like the list's cards
    expect(prescriber.locator("#carte-resultats")).to_be_visible()
    numbers = prescriber.locator("#carte-resultats .map-number").all_inner_texts()
    assert numbers and all(prescriber.locator(f"#candidat-{n}").count() == 1 for n in numbers), numbers

    # "pourquoi pas": a service judged against the same request
    prescriber.get_by_label("Ou son numéro").fill("1")
    prescriber.get_by_role("button", name="Pourquoi pas ce service ?").click()
    expect(prescriber.get_by_role("heading", name=re.compile(r"^Pourquoi pas « "))).to_be_visible()
    look(prescriber, audit, "orienter : pourquoi pas", "orientations-pourquoi-pas")

    # sending: the need carried over, the person, the consent
    card = prescriber.locator("li.candidate").filter(has_text=CCAS_SERVICE).filter(has_text=CCAS)
    card.get_by_role("button", name=re.compile("Orienter vers ce service")).click()
    expect(prescriber.get_by_role("heading", level=1)).to_have_text(f"Orienter vers « {CCAS_SERVICE} »")
    expect(prescriber.locator(f"#thematiques-{DROITS}")).to_be_checked()
    expect(prescriber.get_by_text("jamais le numéro de sécurité sociale")).to_be_visible()
    prescriber.get_by_role("button", name="Envoyer l'orientation").click()  # empty: every error, beside its field
    expect(prescriber.get_by_role("alert")).to_contain_text("Indiquez le nom de la personne")
    expect(prescriber.get_by_label("Nom et prénom")).to_have_attribute("aria-invalid", "true")
    look(prescriber, audit, "orienter : envoi avec erreurs", "orientations-envoi-erreurs")
    prescriber.get_by_label("Nom et prénom").fill(RESIDENT)
    prescriber.get_by_label("Téléphone", exact=True).fill("06 39 98 45 67")
    prescriber.get_by_label("Ce dont la personne a besoin").fill("Demander la complémentaire santé solidaire")
    prescriber.get_by_label("À l'oral, pendant l'entretien").check()
    prescriber.get_by_label("La personne est informée et d'accord pour être orientée vers ce service.").check()
    prescriber.get_by_label("Pièces jointes (facultatif)").set_input_files(
        files=[{"name": "courrier CAF.png", "mimeType": "image/png", "buffer": _png()}]
    )
    prescriber.get_by_role("button", name="Envoyer l'orientation").click()
    flash(prescriber, "Orientation envoyée")
    expect(prescriber.get_by_role("link", name="courrier CAF.png")).to_be_visible()
    referral_id = int(prescriber.url.rsplit("/", 1)[1])
    status_url = prescriber.locator(".status-link a").inner_text()
    look(prescriber, audit, "orientation envoyée (prescripteur)", "orientation-envoyee")

    # the CCAS receives it, accepts it, then closes it with the outcome
    receiver = new_page()
    sign_in(receiver, MANAGER, phone)
    receiver.goto("/orientations")
    row = receiver.locator("tr").filter(has_text=f"n° {referral_id}")
    expect(row).to_contain_text(RESIDENT)
    look(receiver, audit, "orientations reçues (CCAS)", "orientations-recues")
    row.get_by_role("link", name=f"n° {referral_id}").click()
    expect(receiver.get_by_text("06 39 98 45 67")).to_be_visible()
    # the file, fetched with the receiver's own browser session: a download, never shown inline
    link = receiver.get_by_role("link", name="courrier CAF.png")
    expect(link).to_have_attribute("download", "")
    fetched = receiver.request.get(link.get_attribute("href") or "")
    assert fetched.status == 200 and fetched.body() == _png()
    assert fetched.headers["content-disposition"].startswith('attachment; filename="courrier CAF.png"')
    assert fetched.headers["x-content-type-options"] == "nosniff"
    look(receiver, audit, "orientation reçue (CCAS)", "orientation-recue")
    receiver.locator("#action-accept").get_by_label(re.compile("Message pour la structure")).fill(
        "Rendez-vous mardi 14 h"
    )
    receiver.locator("#action-accept").get_by_role("button", name="Accepter").click()
    flash(receiver, "Orientation acceptée")

    resident = new_page()
    resident.goto(status_url)
    expect(resident.get_by_text("Votre demande est acceptée.")).to_be_visible()
    assert RESIDENT not in resident.content()
    look(resident, audit, "suivi de la personne (acceptée)", "suivi-acceptee")

    receiver.get_by_label("Résultat de l'accompagnement").select_option("helped")
    receiver.get_by_role("button", name="Clôturer avec le résultat").click()
    flash(receiver, "Orientation clôturée")
    look(receiver, audit, "orientation clôturée (CCAS)", "orientation-cloturee")

    # the prescriber learns what became of it
    prescriber.goto("/orientations?boite=envoyees&statut=cloturee")
    prescriber.get_by_role("link", name=f"n° {referral_id}").click()
    expect(prescriber.get_by_text("La personne a été aidée")).to_be_visible()
    expect(prescriber.get_by_text("Rendez-vous mardi 14 h")).to_be_visible()

    resident.goto(status_url)
    expect(resident.get_by_text("Votre demande est terminée.")).to_be_visible()
    resident.goto("/suivi/ce-code-n-existe-pas")
    expect(resident.get_by_role("heading", level=1)).to_have_text("Page introuvable")


def test_figures_for_a_structure_and_for_the_coordinator(
    new_page: Callable[..., Page], audit: AccessibilityAudit, phone: TotpPhone
) -> None:
    member = new_page()
    sign_in(member, MANAGER, phone)
    member.goto("/orientations/chiffres")
    expect(member.get_by_role("table").first).to_contain_text(CCAS)
    look(member, audit, "chiffres (CCAS)", "orientations-chiffres-structure")

    coordinator = new_page()
    sign_in(coordinator, COORDINATOR, phone)
    coordinator.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Orientations").click()
    expect(coordinator.get_by_role("heading", name="Qui oriente vers qui")).to_be_visible()
    look(coordinator, audit, "chiffres (coordination)", "orientations-chiffres-reseau")
    assert coordinator.goto("/orientations").status == 403  # figures only, never a resident


def test_routing_and_sending_work_without_javascript(new_page: Callable[..., Page], phone: TotpPhone) -> None:
    page = new_page(java_script_enabled=False)
    sign_in(page, PRESCRIBER, phone)
    page.goto("/orientations/nouvelle")
    page.get_by_text(re.compile(r"^Autres besoins \(\d+ thématiques\)$")).click()  # a <details>: no script needed
    page.get_by_role("group", name="Autres besoins").get_by_label("Alimentation", exact=True).check()
    page.locator(f"#thematiques-{DROITS}").check()
    page.get_by_label("Distance maximale (km)").fill("0,1")
    page.get_by_role("button", name="Chercher les services").click()
    field = page.get_by_label("Distance maximale (km)")
    expect(field).to_have_value("0,1")  # kept, with its error beside it
    expect(field).to_have_attribute("aria-invalid", "true")
    field.fill("")
    page.get_by_role("button", name="Chercher les services").click()
    page.locator("li.candidate").first.get_by_role("button", name=re.compile("Orienter vers ce service")).click()
    expect(page.locator(f"#thematiques-{DROITS}")).to_be_checked()
    expect(page.get_by_role("button", name="Envoyer l'orientation")).to_be_visible()
