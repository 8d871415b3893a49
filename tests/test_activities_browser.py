"""Activity records in a real Chromium over the demo town, on a phone's width (the pages load no script at all): a front-desk
worker records two visitors in a row with quick entry ("the same again"), counts free-access visits, opens the
figures; a person answers the satisfaction page from the QR code's address. axe-core on every page, the FALC
checker's text rules on the satisfaction page, screenshots at desktop and phone widths (tests/browser_support.py)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from hub import demo
from hub.falc import check_text
from tests.browser_support import (  # the shared fixtures (browser, live_server…) too
    MOBILE,
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

FRONT_DESK = demo_user("accueil.roseraie@demo.maillage.fr")  # no second factor


def sign_in(page: Page, user: demo.DemoUser) -> None:
    page.goto("/connexion")
    page.get_by_label("Adresse e-mail").fill(user.email)
    page.get_by_label("Mot de passe", exact=True).fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("status").filter(has_text="Vous êtes connecté.")).to_be_visible()


def look(page: Page, audit: AccessibilityAudit, label: str, shot: str) -> None:
    assert page.locator("script").count() == 0, f"{label}: these pages work without JavaScript, and load none"
    audit.check(page, label)
    screenshot(page, shot)


def test_quick_entry_twice_in_a_row_then_the_person_answers_from_the_code(
    new_page: Callable[..., Page], audit: AccessibilityAudit, phone: TotpPhone
) -> None:
    worker = new_page()
    worker.set_viewport_size(MOBILE)  # a phone
    sign_in(worker, FRONT_DESK)
    worker.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Activités").click()
    expect(worker.get_by_role("heading", level=1)).to_have_text("Saisir une activité")
    expect(worker.get_by_label("Accompagnement individuel")).to_be_checked()  # sensible defaults
    expect(worker.get_by_label("30 min")).to_be_checked()
    look(worker, audit, "saisie rapide", "activites-saisie")

    # the first visitor: a thématique, a profile, by keyboard where a worker would type
    worker.get_by_label("E-mail", exact=True).check()
    worker.get_by_label("45 min").check()
    worker.get_by_label("Tranche d'âge").select_option("60-69")
    worker.get_by_label("Commune").fill("Montclair-sur-Loire")
    worker.get_by_label("Première venue").check()
    worker.get_by_role("button", name="Enregistrer, puis la même chose").click()
    expect(worker.locator("main [role=status]")).to_contain_text("La même est prête")
    expect(worker.get_by_label("E-mail", exact=True)).to_be_checked()  # the same session for the next person
    expect(worker.get_by_label("45 min")).to_be_checked()
    expect(worker.get_by_label("Tranche d'âge")).to_have_value("nc")  # their own profile starts blank
    worker.get_by_label("Commune").press("Enter")  # Enter submits: the first button, "Enregistrer"
    expect(worker.locator("main [role=status]")).to_contain_text("Activité enregistrée.")

    worker.get_by_role("link", name="Activités", exact=True).last.click()
    expect(worker.get_by_text(re.compile(r"^\d+ activités?\.$"))).to_be_visible()
    rows = worker.locator("table tbody tr")
    expect(rows.first).to_contain_text("45 min")
    look(worker, audit, "liste des activités", "activites-liste")

    # a satisfaction code for the first row, as a QR code and its address
    rows.first.get_by_role("link", name=re.compile("^Ouvrir")).click()
    worker.get_by_role("button", name="Créer les codes d'avis").click()
    expect(worker.locator(".codes-sheet svg")).to_have_count(1)
    look(worker, audit, "activité et code d'avis", "activites-code-avis")
    address = worker.locator(".codes-sheet a").first.get_attribute("href")
    assert address and "/avis/" in address

    person = new_page()
    person.set_viewport_size(MOBILE)
    person.goto(address)
    expect(person.get_by_role("heading", level=1)).to_have_text("Votre avis")
    look(person, audit, "page d'avis (FALC)", "activites-avis")
    report = check_text(person.locator(".falc-form").inner_text().splitlines(), "page d'avis")
    assert report.paragraphs_read >= 10
    assert report.ok, "\n".join(b.describe() for b in report.errors)
    assert not report.warnings, "\n".join(b.describe() for b in report.warnings)
    person.get_by_text("Très content").click()
    person.get_by_text("J’ai vu une affiche.").click()
    person.get_by_role("button", name="Envoyer mon avis").click()
    expect(person.get_by_text("Votre avis est bien envoyé.")).to_be_visible()
    look(person, audit, "merci (FALC)", "activites-avis-merci")
    person.goto(address)  # one answer per code
    expect(person.get_by_text("Ce code a déjà servi.")).to_be_visible()

    worker.reload()
    expect(worker.get_by_text(re.compile("Satisfaction : 5,0 sur 5"))).to_be_visible()

    # free access: a big +1 per place
    worker.get_by_role("link", name="Accueil libre").click()
    worker.get_by_role("button", name="+1").first.click()
    expect(worker.locator("main [role=status]")).to_contain_text("Compté : 1 passage aujourd'hui.")
    look(worker, audit, "accueil libre", "activites-accueil-libre")

    worker.get_by_role("link", name="Chiffres").click()
    expect(worker.get_by_role("heading", level=1)).to_contain_text("Chiffres des activités")
    look(worker, audit, "chiffres de la structure", "activites-chiffres")
    worker.get_by_role("link", name="Ateliers").click()
    expect(worker).to_have_url(re.compile(r"/activites/\d+/ateliers$"))
    look(worker, audit, "ateliers", "activites-ateliers")


COORDINATOR = demo_user("coordination@demo.maillage.fr")


def test_the_coordinator_reads_the_networks_figures_and_a_workshop_series_is_followed(
    new_page: Callable[..., Page], audit: AccessibilityAudit, phone: TotpPhone
) -> None:
    coordinator = new_page()
    coordinator.goto("/connexion")
    coordinator.get_by_label("Adresse e-mail").fill(COORDINATOR.email)
    coordinator.get_by_label("Mot de passe", exact=True).fill(demo.DEMO_PASSWORD)
    coordinator.get_by_role("button", name="Se connecter").click()
    coordinator.get_by_label("Code à 6 chiffres, ou code de secours").fill(phone.code(phone.secrets[COORDINATOR.email]))
    coordinator.get_by_role("button", name="Valider").click()
    coordinator.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Activités").click()
    coordinator.get_by_role("link", name="Les chiffres de tout le réseau").click()
    expect(coordinator.get_by_role("heading", level=1)).to_have_text("Chiffres des activités du réseau")
    by_structure = coordinator.get_by_role("table", name="Par structure")
    expect(by_structure.get_by_role("row")).to_have_count(11)  # the header and the demo's ten partners
    look(coordinator, audit, "chiffres du réseau", "activites-chiffres-reseau")
    by_structure.get_by_role("link", name="Médiathèque Louise-Michel").click()
    expect(coordinator.get_by_role("table", name="Accès libre, par lieu")).to_be_visible()
    # the coordinator reads figures, never a structure's activities
    coordinator.goto(coordinator.url.replace("/chiffres", "").split("?")[0])
    expect(coordinator.get_by_role("heading", level=1)).to_have_text("Page introuvable")

    worker = new_page()
    sign_in(worker, FRONT_DESK)
    worker.goto("/activites")
    worker.get_by_role("link", name="Ateliers").click()
    worker.get_by_role("link", name="Café numérique des parents").click()
    expect(worker.get_by_role("table", name="Qui est venu à quelle séance")).to_be_visible()
    worker.get_by_label("Venus sans inscription").fill("2")
    worker.get_by_role("checkbox").first.check()
    worker.get_by_role("button", name="Enregistrer la séance").click()
    expect(worker.locator("main [role=status]")).to_contain_text("Séance enregistrée avec ses présences.")
    worker.go_back()
    worker.reload()
    look(worker, audit, "série d'ateliers", "activites-serie")
