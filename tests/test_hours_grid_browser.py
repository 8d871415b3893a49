"""The opening-hours grid in a real Chromium (issue 10): a CCAS manager changes their hours without knowing
any syntax, with JavaScript (Monday copied to the working days) and without it; the service form's languages
by name and its place form; axe-core on each state, screenshots to look at in /tmp/shots."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from hub import demo
from hub.runtime import Runtime
from network.tables import Service, Structure
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

pytestmark = pytest.mark.browser

MANAGER = demo_user("referente.ccas@demo.maillage.fr")
CCAS = "CCAS de Montclair-sur-Loire"

__all__ = ["audit", "browser", "live_server", "new_page", "phone"]  # fixtures, imported for pytest


def sign_in_manager(page: Page, phone: TotpPhone) -> None:
    page.goto("/connexion")
    page.get_by_label("Adresse e-mail").fill(MANAGER.email)
    page.get_by_label("Mot de passe", exact=True).fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_label("Code à 6 chiffres, ou code de secours").fill(phone.code(phone.secrets[MANAGER.email]))
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("status").filter(has_text="Vous êtes connecté.")).to_be_visible()


def ccas(live_server: LiveServer) -> dict[str, object]:
    async def read(rt: Runtime) -> dict[str, object]:
        row = await Structure.select(Structure.id, Structure.opening_hours).where(Structure.name == CCAS).first()
        assert row is not None
        return dict(row)

    return live_server.call(read)


def test_a_manager_changes_the_hours_with_the_grid(
    new_page: Callable[..., Page], audit: AccessibilityAudit, phone: TotpPhone, live_server: LiveServer
) -> None:
    structure = ccas(live_server)
    page = new_page()
    sign_in_manager(page, phone)
    page.goto(f"/annuaire/structures/{structure['id']}/modifier")
    # the stored hours fill the grid (the demo's fit in it), the expert field stays empty and folded
    expect(page.locator("#hours_mo_1_from")).to_have_value(re.compile(r"^\d\d:\d\d$"))
    expect(page.locator("#hours_ph_off")).to_be_checked()
    expect(page.locator("details.hours-expert")).not_to_have_attribute("open", "")
    expect(page.get_by_role("group", name="Horaires d'accueil")).to_be_visible()
    audit.check(page, "grille horaire : fiche de la structure")
    screenshot(page, "grille-horaire-structure")

    # Monday typed, copied to the working days by the button (JavaScript), Thursday only some weeks
    page.locator("#hours_mo_1_from").fill("08:30")
    page.locator("#hours_mo_1_to").fill("12:30")
    page.locator("#hours_mo_2_from").fill("13:30")
    page.locator("#hours_mo_2_to").fill("17:00")
    page.get_by_role("button", name="Recopier le lundi sur les autres jours ouvrés (mardi à vendredi)").click()
    expect(page.get_by_role("status").filter(has_text="recopiés du mardi au vendredi")).to_be_visible()
    expect(page.locator("#hours_fr_2_to")).to_have_value("17:00")
    page.locator("#hours_th_2_from").fill("")
    page.locator("#hours_th_2_to").fill("")
    page.get_by_label("Semaines (Jeudi)").select_option(label="Le 1er et le 3e du mois")
    page.locator("#hours_sa_1_from").fill("09:00")
    page.locator("#hours_sa_1_to").fill("12:00")
    # a mistake first: the page comes back with every value and the error beside the day
    page.locator("#hours_we_2_to").fill("12:00")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Mercredi : l'heure de fermeture vient après l'heure d'ouverture."
    )
    expect(page.locator("#hours_we-error")).to_be_visible()
    expect(page.locator("#hours_sa_1_from")).to_have_value("09:00")
    expect(page.locator("#hours_th_weeks")).to_have_value("1,3")
    audit.check(page, "grille horaire : erreur")
    screenshot(page, "grille-horaire-erreur")
    page.get_by_role("link", name=re.compile("^Mercredi : l'heure de fermeture")).click()
    page.locator("#hours_we_2_to").fill("17:00")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("main [role=status]").filter(has_text="Fiche enregistrée.")).to_be_visible()
    assert ccas(live_server)["opening_hours"] == (
        "Mo-We,Fr 08:30-12:30,13:30-17:00; Th[1,3] 08:30-12:30; Sa 09:00-12:00; PH off"
    )
    hours = page.get_by_role("table", name=re.compile("Horaires"))
    expect(hours).to_contain_text("8 h 30 à 12 h 30, 13 h 30 à 17 h")
    expect(hours).to_contain_text("le 1er et le 3e du mois : 8 h 30 à 12 h 30")
    screenshot(page, "grille-horaire-enregistree")


def test_the_grid_works_without_javascript_and_the_service_form_speaks_french(
    new_page: Callable[..., Page], audit: AccessibilityAudit, phone: TotpPhone, live_server: LiveServer
) -> None:
    structure = ccas(live_server)

    async def first_service(rt: Runtime) -> int:
        row = await Service.select(Service.id).where(Service.structure == structure["id"]).first()
        assert row is not None
        return int(row["id"])

    service_id = live_server.call(first_service)
    page = new_page(java_script_enabled=False)
    sign_in_manager(page, phone)
    page.goto(f"/annuaire/structures/{structure['id']}/services/{service_id}/modifier")
    expect(page.locator("button.hours-copy").first).to_be_hidden()  # the copy needs JavaScript: not offered
    expect(page.get_by_role("checkbox", name="arabe", exact=True)).to_be_checked()  # the demo's ["fr", "ar"]
    page.get_by_role("checkbox", name="ukrainien").check()
    page.get_by_label("À apporter").fill("Pièce d'identité\nDernier avis d'imposition")
    page.locator("#hours_tu_1_from").fill("09:00")
    page.locator("#hours_tu_1_to").fill("12:00")
    page.get_by_role("button", name="Enregistrer").click()
    # the grid and the service's stored hours (which fill the grid) say one thing: saved
    expect(page.locator("main [role=status]").filter(has_text="Service enregistré.")).to_be_visible()
    expect(page.locator("dl.facts")).to_contain_text("ukrainien")
    expect(page.locator("dl.facts")).to_contain_text("Dernier avis d'imposition")
    screenshot(page, "service-a-apporter")

    page = new_page()  # with JavaScript again (the details open on a click either way)
    sign_in_manager(page, phone)
    page.goto(f"/annuaire/structures/{structure['id']}/services/{service_id}/modifier")
    for field in ("1_from", "1_to", "2_from", "2_to"):  # Monday emptied, the expert field saying otherwise
        page.locator(f"#hours_mo_{field}").fill("")
    page.get_by_text("Saisie experte (format OpenStreetMap)").first.click()
    page.locator("#opening_hours").fill("Mo-Fr 10:00-11:00")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("alert").get_by_role("listitem")).to_have_count(1)
    expect(page.locator("#opening_hours-error")).to_contain_text("La grille et la saisie experte")
    expect(page.locator("#opening_hours")).to_have_value("Mo-Fr 10:00-11:00")
    audit.check(page, "grille horaire : grille et saisie experte en désaccord")
    screenshot(page, "service-grille-et-expert")

    page.get_by_label("Commune", exact=True).last.fill("Montclair-sur-Loire")
    page.locator("#p-hours_we_1_from").fill("14:00")
    page.get_by_role("button", name="Ajouter le lieu").click()
    expect(page.locator("#p-hours_we-error")).to_contain_text("Mercredi : indiquez")
    expect(page.locator("#p-commune")).to_have_value("Montclair-sur-Loire")
    audit.check(page, "lieu : erreur dans la grille")
    screenshot(page, "lieu-grille-erreur")


def test_the_join_form_says_when_the_address_is_not_found(
    new_page: Callable[..., Page], audit: AccessibilityAudit, live_server: LiveServer
) -> None:
    page = new_page()
    page.goto("/annuaire/rejoindre")
    page.get_by_label("Adresse e-mail du futur référent").fill("direction@asso-lecture.example.fr")
    page.get_by_label("Nom de la structure").fill("Association Lecture pour tous")
    page.get_by_label("Type de structure").select_option(label="Association")
    page.get_by_label("Adresse", exact=True).fill("4 chemin des Oubliés")
    page.get_by_label("Code postal").fill("45990")
    page.get_by_label("Commune", exact=True).fill("Montclair-sur-Loire")
    expect(page.get_by_label("Latitude")).to_be_hidden()  # a correction only: folded under "Corriger la position"
    page.get_by_role("button", name="Envoyer la demande").click()
    expect(page.locator("#address-error")).to_contain_text("Adresse introuvable sur la carte")
    expect(page.get_by_label("Adresse", exact=True)).to_have_value("4 chemin des Oubliés")
    audit.check(page, "rejoindre : adresse introuvable")
    screenshot(page, "rejoindre-adresse-introuvable")
    page.get_by_text("Corriger la position sur la carte", exact=True).click()
    expect(page.get_by_label("Latitude")).to_be_visible()
    audit.check(page, "rejoindre : corriger la position")
    page.get_by_role("button", name="Envoyer la demande").click()  # as it is: saved without a position
    expect(page.locator("main [role=status]")).to_contain_text("Votre demande est transmise")

    async def joined(rt: Runtime) -> dict[str, object]:
        row = await Structure.select(Structure.latitude, Structure.insee_code, Structure.status).where(
            Structure.name == "Association Lecture pour tous"
        )
        return dict(row[0])

    assert live_server.call(joined) == {"latitude": None, "insee_code": "45999", "status": "pending"}
