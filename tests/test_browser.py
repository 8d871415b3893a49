"""The pages in a real Chromium: sign-in flows, no-JavaScript use, keyboard, and axe-core on every page.

The app runs for real (uvicorn, real lifespan) over a clone of the migrated database seeded with the demo
network; see tests/browser_support.py. Screenshots land in /tmp/shots (MAILLAGE_SHOTS_DIR) for review.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pyotp
import pytest
import segno
from playwright.sync_api import Locator, Page, expect

from hub import demo, jobs
from hub.runtime import Runtime
from hub.security import totp_qr_svg, totp_uri
from network import demo as town
from network.tables import Service, Structure
from tests.browser_support import (  # the shared fixtures (browser, live_server…) too
    DESKTOP,
    MOBILE,
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
from tests.conftest import PASSWORD, Inbox, make_person

pytestmark = pytest.mark.browser

COORDINATOR = demo_user("coordination@demo.maillage.fr")
ADMIN = demo_user("admin@demo.maillage.fr")
MANAGER = demo_user("referente.ccas@demo.maillage.fr")
AIDANT = demo_user("aidant.franceservices@demo.maillage.fr")
PRESCRIBER = demo_user("prescripteur.caf@demo.maillage.fr")
CCAS = "CCAS de Montclair-sur-Loire"


# ---------------------------------------------------------------- helpers
def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/connexion")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.get_by_role("button", name="Se connecter").click()


def enter_code(page: Page, code: str) -> None:
    expect(page).to_have_url(re.compile(r"/connexion/code$"))
    page.get_by_label("Code à 6 chiffres, ou code de secours").fill(code)
    page.get_by_role("button", name="Valider").click()


def sign_in_demo(page: Page, user: demo.DemoUser, phone: TotpPhone) -> None:
    sign_in(page, user.email, demo.DEMO_PASSWORD)
    if user.needs_totp:
        enter_code(page, phone.code(phone.secrets[user.email]))
    expect(page.get_by_role("status").filter(has_text="Vous êtes connecté.")).to_be_visible()


def nav(page: Page, name: str) -> Locator:
    """A link of the main navigation (pages also link to the same places in their text)."""
    return page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name=name, exact=True)


def flash(page: Page, text: str) -> None:
    expect(page.locator("main [role=status]").filter(has_text=text)).to_be_visible()


def mail_link(live_server: LiveServer, inbox: Inbox, to: str, prefix: str) -> str:
    assert live_server.deliver_mail(at_least=1) >= 1
    messages = inbox.to(to)
    assert messages, f"no mail to {to}"
    return inbox.link(messages[-1], prefix)


# ---------------------------------------------------------------- tests
def test_public_pages_are_accessible(new_page: Callable[..., Page], audit: AccessibilityAudit) -> None:
    page = new_page()
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bienvenue sur Maillage")
    audit.check(page, "accueil (anonyme)")
    screenshot(page, "accueil-anonyme")

    page.get_by_role("link", name="Se connecter").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")
    audit.check(page, "connexion")
    page.get_by_label("Adresse e-mail").fill(PRESCRIBER.email)
    page.get_by_label("Mot de passe", exact=True).fill("pas le bon mot de passe")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("alert")).to_contain_text("Adresse e-mail ou mot de passe incorrect.")
    expect(page.get_by_label("Mot de passe", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Adresse e-mail")).to_have_value(PRESCRIBER.email)
    audit.check(page, "connexion (erreurs)")
    screenshot(page, "connexion-erreurs")

    page.get_by_role("link", name="Mot de passe oublié ?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mot de passe oublié")
    audit.check(page, "mot de passe oublié")
    screenshot(page, "mot-de-passe-oublie")

    response = page.goto("/cette-page-n-existe-pas")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
    audit.check(page, "page 404")
    screenshot(page, "erreur-404")


def test_coordinator_signs_in_with_a_totp_code_and_reads_the_journal(
    new_page: Callable[..., Page], audit: AccessibilityAudit, phone: TotpPhone, live_server: LiveServer
) -> None:
    page = new_page()
    sign_in(page, COORDINATOR.email, demo.DEMO_PASSWORD)
    expect(page).to_have_url(re.compile(r"/connexion/code$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Code de connexion")
    audit.check(page, "second facteur")
    screenshot(page, "code-de-connexion")
    enter_code(page, phone.code(phone.secrets[COORDINATOR.email]))

    expect(page).to_have_url(re.compile(r"/$"))
    flash(page, "Vous êtes connecté.")
    expect(page.locator("main")).to_contain_text(f"Bonjour {COORDINATOR.full_name}")
    audit.check(page, "accueil (coordinatrice)")
    screenshot(page, "accueil-coordinatrice")

    nav(page, "Journal").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Journal des actions")
    expect(page.get_by_role("status")).to_contain_text("Chaîne intacte")
    expect(page.locator("tbody tr").first).to_be_visible()
    audit.check(page, "journal")
    screenshot(page, "journal")

    # the coordinator's desk: a real data·inclusion file through the upload form, then its row report
    nav(page, "Coordination").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Coordination de l'annuaire")
    audit.check(page, "coordination de l'annuaire")
    page.get_by_label("Fichier").set_input_files(str(Path(__file__).parent / "data" / "datainclusion_broken_rows.json"))
    page.get_by_role("button", name="Importer").click()
    expect(page.get_by_role("heading", name="Import en cours")).to_be_visible()  # a job: its page follows it
    live_server.call(jobs.run_due_jobs)
    expect(page.get_by_role("status").filter(has_text="Import terminé")).to_be_visible(timeout=10_000)
    expect(page.get_by_role("table", name=re.compile("Lignes refusées"))).to_be_visible()
    audit.check(page, "rapport d'import")
    screenshot(page, "rapport-import")

    nav(page, "Mon compte").click()
    page.get_by_label("Nom du jeton").fill("Tableau de bord du réseau")
    page.get_by_role("button", name="Créer un jeton").click()
    expect(page.locator("code.secret")).to_have_text(re.compile(r"^mlg_"))
    expect(page.get_by_role("table", name="Vos jetons")).to_contain_text("Tableau de bord du réseau")
    audit.check(page, "mon compte (jeton créé)")
    screenshot(page, "mon-compte")


def test_admin_sees_every_account(new_page: Callable[..., Page], audit: AccessibilityAudit, phone: TotpPhone) -> None:
    page = new_page()
    sign_in_demo(page, ADMIN, phone)
    nav(page, "Utilisateurs").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Utilisateurs")
    table = page.get_by_role("table", name="Comptes et rôles à l'échelle du réseau")
    for user in demo.USERS:
        expect(table).to_contain_text(user.email)
    audit.check(page, "administration des utilisateurs")
    screenshot(page, "utilisateurs")


def test_manager_invites_a_colleague_who_then_joins(
    new_page: Callable[..., Page], audit: AccessibilityAudit, phone: TotpPhone, live_server: LiveServer, inbox: Inbox
) -> None:
    page = new_page()
    sign_in_demo(page, MANAGER, phone)
    nav(page, "Ma structure").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(CCAS)  # the entry, with its edit actions
    expect(page.get_by_role("link", name="Modifier la fiche")).to_be_visible()
    page.get_by_role("link", name="Gérer les membres et inviter une personne").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Membres de {CCAS}")
    expect(page.get_by_role("table", name=re.compile("Personnes et rôles"))).to_contain_text(MANAGER.email)
    audit.check(page, "membres")

    newcomer = "lea.durand@ccas-montclair.example.fr"
    page.get_by_label("Adresse e-mail professionnelle").fill(newcomer)
    page.get_by_label("Rôle", exact=True).select_option("prescriber")
    page.get_by_role("button", name="Envoyer l'invitation", exact=True).click()
    flash(page, "Invitation envoyée. Le lien est valable 7 jours.")
    audit.check(page, "membres (invitation envoyée)")
    screenshot(page, "membres")

    link = mail_link(live_server, inbox, newcomer, "/invitation/")
    guest = new_page()
    guest.goto(link)
    expect(guest.get_by_role("heading", level=1)).to_have_text(f"Rejoindre {CCAS}")
    expect(guest.locator("main")).to_contain_text(newcomer)
    audit.check(guest, "invitation")
    guest.get_by_label("Prénom et nom").fill("Léa Durand")
    guest.get_by_label("Choisissez un mot de passe").fill("court")
    guest.get_by_role("button", name="Rejoindre la structure").click()
    expect(guest.get_by_role("alert")).to_be_visible()
    audit.check(guest, "invitation (erreurs)")
    screenshot(guest, "invitation-erreurs")
    guest.get_by_label("Choisissez un mot de passe").fill("une phrase de passe assez longue")
    guest.get_by_role("button", name="Rejoindre la structure").click()
    expect(guest).to_have_url(re.compile(r"/connexion$"))
    flash(guest, "Bienvenue !")

    sign_in(guest, newcomer, "une phrase de passe assez longue")
    expect(guest.locator(".card").filter(has_text=CCAS)).to_contain_text("Prescripteur")


def test_new_manager_enrols_an_authenticator_app(
    new_page: Callable[..., Page], audit: AccessibilityAudit, live_server: LiveServer
) -> None:
    email = "claire.nouvelle@ccas-montclair.example.fr"

    async def unenrolled_manager(rt: Runtime) -> None:
        ccas = await Structure.select(Structure.id).where(Structure.name == CCAS).first()
        assert ccas is not None
        await make_person(rt, email, {ccas["id"]: ["manager"]}, enrolled=False)

    live_server.call(unenrolled_manager)
    page = new_page()
    sign_in(page, email, PASSWORD)
    expect(page).to_have_url(re.compile(r"/compte/double-authentification$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Activer la double authentification")

    qr = page.get_by_role("img", name=re.compile("Code QR"))
    expect(qr).to_be_visible()
    secret = page.locator("code.secret").inner_text().replace(" ", "")  # shown in groups of four
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), secret
    # The QR code carries the very key written under it (same dark modules as a fresh rendering)...
    shown_modules = page.locator(".qr svg path.qrline").get_attribute("d")
    expected_modules = re.search(r'class="qrline"[^>]*\sd="([^"]+)"', totp_qr_svg(totp_uri(secret, email)))
    assert expected_modules and shown_modules == expected_modules.group(1)
    # ... and is drawn whole and large enough, on a desktop screen and on a phone.
    size = int(segno.make(totp_uri(secret, email), error="m").symbol_size(scale=1)[0])
    assert_qr_code_fully_drawn(page, modules=size)
    page.set_viewport_size(MOBILE)
    assert_qr_code_fully_drawn(page, modules=size)
    page.set_viewport_size(DESKTOP)
    audit.check(page, "activation de la double authentification")
    screenshot(page, "double-authentification")

    page.get_by_label("Votre mot de passe").fill(PASSWORD)  # asked again at a first required enrolment
    page.get_by_label("Code à 6 chiffres").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Activer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vos codes de secours")
    expect(page.locator(".codes li")).to_have_count(10)
    audit.check(page, "codes de secours")
    screenshot(page, "codes-de-secours")
    page.get_by_role("link", name="Continuer").click()
    expect(nav(page, "Ma structure")).to_be_visible()


def assert_qr_code_fully_drawn(page: Page, modules: int) -> None:
    """The whole symbol is on screen (no cropping by CSS) and each module is at least 3 px: a phone reads it."""
    drawn = page.locator(".qr svg").evaluate(
        """svg => {
            const b = svg.getBBox(), m = svg.getScreenCTM(), r = svg.getBoundingClientRect();
            return {x: b.x * m.a + m.e, y: b.y * m.d + m.f, w: b.width * m.a, h: b.height * m.d,
                    box: {x: r.x, y: r.y, w: r.width, h: r.height}};
        }"""
    )
    box = drawn["box"]
    assert drawn["x"] >= box["x"] - 1 and drawn["x"] + drawn["w"] <= box["x"] + box["w"] + 1, drawn
    assert drawn["y"] >= box["y"] - 1 and drawn["y"] + drawn["h"] <= box["y"] + box["h"] + 1, drawn
    assert drawn["w"] / modules >= 3 and drawn["w"] >= 160, f"QR code too small to scan: {drawn}"


def test_password_reset_by_email(
    new_page: Callable[..., Page], audit: AccessibilityAudit, live_server: LiveServer, inbox: Inbox
) -> None:
    page = new_page()
    page.goto("/mot-de-passe-oublie")
    page.get_by_label("Adresse e-mail").fill(PRESCRIBER.email)
    page.get_by_role("button", name="Recevoir un lien").click()
    expect(page).to_have_url(re.compile(r"/connexion$"))
    flash(page, "Si un compte existe pour cette adresse")

    page.goto(mail_link(live_server, inbox, PRESCRIBER.email, "/mot-de-passe/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Choisir un nouveau mot de passe")
    audit.check(page, "nouveau mot de passe")
    page.get_by_label("Nouveau mot de passe").fill("la nouvelle phrase de Sophie")
    page.get_by_label("Confirmez le mot de passe").fill("une autre phrase de Sophie")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("alert")).to_contain_text("Les deux mots de passe ne sont pas identiques.")
    audit.check(page, "nouveau mot de passe (erreurs)")
    screenshot(page, "nouveau-mot-de-passe-erreurs")
    page.get_by_label("Nouveau mot de passe").fill("la nouvelle phrase de Sophie")
    page.get_by_label("Confirmez le mot de passe").fill("la nouvelle phrase de Sophie")
    page.get_by_role("button", name="Enregistrer").click()
    flash(page, "Votre mot de passe a été changé.")

    sign_in(page, PRESCRIBER.email, "la nouvelle phrase de Sophie")
    expect(page.locator("main")).to_contain_text(f"Bonjour {PRESCRIBER.full_name}")


def test_directory_pages_are_accessible(
    new_page: Callable[..., Page], audit: AccessibilityAudit, phone: TotpPhone, live_server: LiveServer
) -> None:
    async def ccas_id(rt: Runtime) -> int:
        row = await Structure.select(Structure.id).where(Structure.name == CCAS).first()
        assert row is not None
        return int(row["id"])

    structure_id = live_server.call(ccas_id)
    visitor = new_page()
    visitor.goto(f"/annuaire/structures/{structure_id}")
    expect(visitor.get_by_role("heading", level=1)).to_have_text(CCAS)
    audit.check(visitor, "annuaire : fiche structure")
    screenshot(visitor, "annuaire-structure")
    visitor.goto("/annuaire/rejoindre")
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Rejoindre le réseau")
    audit.check(visitor, "annuaire : rejoindre le réseau")
    screenshot(visitor, "annuaire-rejoindre")

    visitor.goto("/annuaire")
    visitor.get_by_label("Que cherchez-vous ?").fill("demarches caf")
    visitor.get_by_role("button", name="Rechercher").click()
    expect(visitor.get_by_role("heading", level=2, name=re.compile("résultat"))).to_be_visible()
    expect(visitor.get_by_role("link", name="Point numérique CAF")).to_be_visible()
    # the map is drawn from the results (tiles cannot load here: the list must not depend on them)
    expect(visitor.locator("#carte .leaflet-marker-icon").first).to_be_attached()
    audit.check(visitor, "annuaire : recherche et carte")
    screenshot(visitor, "annuaire-recherche")
    visitor.get_by_role("link", name="Point numérique CAF").click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Point numérique CAF")
    audit.check(visitor, "annuaire : fiche service")
    screenshot(visitor, "annuaire-service")

    async def appointment_id(rt: Runtime) -> int:
        row = await Service.select(Service.id).where(Service.name == "Rendez-vous droits et prestations").first()
        assert row is not None
        return int(row["id"])

    appointment = next(s for s in town.SERVICES if s.name == "Rendez-vous droits et prestations")
    visitor.goto(f"/annuaire/services/{live_server.call(appointment_id)}")
    booking = visitor.get_by_role("link", name=re.compile("^Prendre rendez-vous"))
    expect(booking).to_have_attribute("href", appointment.booking_url)
    expect(visitor.get_by_role("link", name="32 30")).to_have_attribute("href", "tel:3230")
    facts = visitor.locator("dl.facts")  # plain words, not the data·inclusion labels
    expect(facts.locator(".ways li")).to_have_text(
        ["Prendre rendez-vous en ligne", "Téléphoner", "Envoyer un e-mail", "Se présenter sur place"]
    )
    expect(facts).to_contain_text("Vous-même ou un professionnel qui vous accompagne")
    expect(facts).not_to_contain_text("mobilisation")
    audit.check(visitor, "annuaire : service avec prise de rendez-vous")
    screenshot(visitor, "annuaire-service-rendez-vous")

    offline = new_page(java_script_enabled=False)
    offline.goto("/annuaire?q=ordinateur")
    expect(offline.get_by_role("link", name="Ordinateurs solidaires", exact=True)).to_be_visible()
    expect(offline.locator("#carte")).to_be_hidden()

    page = new_page()
    sign_in_demo(page, MANAGER, phone)
    page.goto(f"/annuaire/structures/{structure_id}/modifier")
    expect(page.get_by_label("Nom de la structure")).to_have_value(CCAS)
    audit.check(page, "annuaire : modifier la fiche")
    screenshot(page, "annuaire-modifier")
    page.goto(f"/annuaire/structures/{structure_id}/services/nouveau")
    audit.check(page, "annuaire : nouveau service")
    screenshot(page, "annuaire-nouveau-service")


def test_pages_run_under_the_content_security_policy(new_page: Callable[..., Page], audit: AccessibilityAudit) -> None:
    """No inline script or style is refused by the CSP; the map (Leaflet) still draws its markers."""
    page = new_page()
    refused: list[str] = []
    page.on(
        "console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None
    )
    page.on("pageerror", lambda error: refused.append(str(error)))
    response = page.goto("/annuaire")
    assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]
    page.get_by_label("Que cherchez-vous ?").fill("demarches caf")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.locator("#carte.leaflet-container .leaflet-marker-icon").first).to_be_attached()
    audit.check(page, "annuaire : carte sous la CSP")
    for path in ("/", "/connexion", "/mot-de-passe-oublie", "/annuaire/rejoindre", "/page-inconnue"):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert not refused, refused


def test_search_by_address_sorted_by_distance(new_page: Callable[..., Page], audit: AccessibilityAudit) -> None:
    visitor = new_page()
    visitor.goto("/annuaire")
    visitor.get_by_label("Que cherchez-vous ?").fill("numérique")
    visitor.get_by_label("Près de (facultatif)").fill("22 allée des Aubiers")
    visitor.get_by_role("button", name="Rechercher").click()
    origin = visitor.locator("#origine")
    expect(origin).to_contain_text("l'adresse indiquée (à 100 m près)")
    assert "Aubiers" not in visitor.url and "lat=47.913" in visitor.url  # posted, then a rounded point
    distances = [
        float(text.replace(",", "."))
        for text in re.findall(r"à (\d+,\d) km", visitor.locator("ol.results").inner_text())
    ]
    assert len(distances) > 2 and distances == sorted(distances), distances
    expect(visitor.locator("#carte .leaflet-interactive").first).to_be_attached()  # the starting point, on the map
    audit.check(visitor, "annuaire : recherche près d'une adresse")
    screenshot(visitor, "annuaire-recherche-adresse")

    visitor.get_by_label("Près de (facultatif)").fill("3 chemin des Oubliettes, Trifouilly")
    visitor.get_by_role("button", name="Rechercher").click()
    address = visitor.get_by_label("Près de (facultatif)")
    expect(address).to_have_attribute("aria-invalid", "true")
    expect(visitor.locator("#adresse-error")).to_contain_text("Adresse introuvable")
    expect(visitor.get_by_role("heading", level=2, name=re.compile("résultat"))).to_be_visible()  # still listed
    audit.check(visitor, "annuaire : adresse introuvable")
    screenshot(visitor, "annuaire-adresse-introuvable")


def test_aidant_uses_the_hub_without_javascript(new_page: Callable[..., Page], phone: TotpPhone) -> None:
    page = new_page(java_script_enabled=False)
    sign_in_demo(page, AIDANT, phone)
    expect(page.locator(".card").filter(has_text="France Services de Montclair")).to_contain_text("Aidant")

    nav(page, "Mon compte").click()
    page.get_by_label("Nom du jeton").fill("Tableur de suivi")
    page.get_by_role("button", name="Créer un jeton").click()
    expect(page.locator("code.secret")).to_have_text(re.compile(r"^mlg_"))
    page.get_by_role("button", name="Révoquer le jeton Tableur de suivi").click()
    flash(page, "Jeton révoqué.")
    expect(page.get_by_role("table", name="Vos jetons")).to_contain_text("Révoqué")

    page.get_by_role("button", name="Se déconnecter").click()
    flash(page, "Vous êtes déconnecté.")
    expect(nav(page, "Se connecter")).to_be_visible()
    page.goto("/compte")
    expect(page).to_have_url(re.compile(r"/connexion\?suivant=/compte$"))


def test_skip_link_is_the_first_tab_stop_and_focus_is_visible(new_page: Callable[..., Page]) -> None:
    page = new_page()
    page.goto("/connexion")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Aller au contenu")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box and box["x"] >= 0 and box["y"] >= 0 and box["width"] > 40, f"skip link off screen: {box}"
    assert_focus_ring(page)

    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Adresse e-mail")).to_be_focused()
    assert_focus_ring(page)
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Se connecter")).to_be_focused()
    assert_focus_ring(page)
    screenshot(page, "focus-bouton")


def assert_focus_ring(page: Page) -> None:
    """The focused element shows an outline of at least 2 px (WCAG 2.4.7), not the browser's hidden default."""
    style = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return {style: s.outlineStyle, width: parseFloat(s.outlineWidth), shadow: s.boxShadow}; }"
    )
    assert (style["style"] != "none" and style["width"] >= 2) or style["shadow"] != "none", style


def test_the_accessibility_audit_fails_on_a_serious_violation(new_page: Callable[..., Page]) -> None:
    """The audit is not vacuous: an image without text and an empty button are reported and fail."""
    page = new_page()
    page.set_content('<!DOCTYPE html><html lang="fr"><title>t</title><main><img src="x.png"><button></button></main>')
    with pytest.raises(AssertionError, match=r"image-alt \[critical\]"):
        AccessibilityAudit().check(page, "contrôle de l'outil")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_search_near_a_place_keeps_it_across_filters_and_sorts(
    new_page: Callable[..., Page], audit: AccessibilityAudit, javascript: bool
) -> None:
    worker = new_page(java_script_enabled=javascript)
    worker.goto("/annuaire")
    worker.get_by_label("Que cherchez-vous ?").fill("aide aux démarches")
    worker.get_by_label("Près de (facultatif)").fill("Les Aubiers")
    worker.get_by_role("button", name="Rechercher").click()
    expect(worker.locator("#resultats")).to_be_focused()  # straight to the results
    results = worker.locator("ol.results > li h3")
    expect(results.first).to_have_text("Bus France Services")  # parked in Les Aubiers, 0.1 km away
    expect(worker.get_by_label("Près de (facultatif)")).to_have_value(re.compile("Les Aubiers"))

    worker.locator("details.filters summary").click()
    worker.get_by_label("Gratuit", exact=True).check()
    worker.get_by_role("button", name="Appliquer les filtres").click()
    expect(worker.locator("#origine")).to_contain_text("Les Aubiers")  # the place is kept, nearest first
    expect(results.first).to_have_text("Bus France Services")
    expect(worker.get_by_label("Gratuit", exact=True)).to_be_checked()
    assert "lat=47.9" in worker.url and "Aubiers" in worker.url  # an area's name only: never an address
    if javascript:
        audit.check(worker, "annuaire : un filtre garde le lieu")
        screenshot(worker, "annuaire-filtre-garde-le-lieu")

    worker.get_by_label("Ordre des résultats").select_option("nom")
    worker.get_by_role("button", name="Appliquer les filtres").click()
    expect(worker.locator("#origine")).to_have_count(0)  # by name now…
    expect(worker.get_by_label("Près de (facultatif)")).to_have_value(re.compile("Les Aubiers"))  # …the place kept
    worker.get_by_label("Ordre des résultats").select_option("distance")
    worker.get_by_role("button", name="Appliquer les filtres").click()
    expect(worker.locator("#origine")).to_contain_text("Les Aubiers")
    expect(worker.get_by_role("link", name="Aller aux résultats")).to_be_visible()

    worker.get_by_label("Près de (facultatif)").fill("")  # emptied: no place any more
    worker.get_by_role("button", name="Rechercher").click()
    expect(worker.locator("#origine")).to_have_count(0)

    worker.get_by_role("link", name="Bus France Services").click()  # where to go, when, and a map
    where = worker.get_by_role("region", name="Où aller", exact=True)
    expect(where).to_contain_text("Place du Marché, 45990 Montclair-sur-Loire, quartier Les Aubiers")
    expect(where.get_by_role("table", name="Horaires de ce lieu (Place du marché des Aubiers)")).to_contain_text(
        "9 h à 12 h"
    )
    if javascript:
        expect(worker.locator("#carte-service .leaflet-marker-icon").first).to_be_attached()
        audit.check(worker, "annuaire : où aller pour un service")
        screenshot(worker, "annuaire-service-ou-aller")
    else:
        expect(worker.locator("#carte-service")).to_be_hidden()
        expect(where.get_by_role("link", name=re.compile("sur un plan"))).to_have_count(2)


def test_manager_withdraws_a_service_after_confirming_and_puts_it_back(
    new_page: Callable[..., Page], audit: AccessibilityAudit, phone: TotpPhone
) -> None:
    page = new_page()
    sign_in_demo(page, MANAGER, phone)
    page.goto("/annuaire?q=aide+aux+démarches+administratives")
    page.get_by_role("link", name="Aide aux démarches administratives", exact=True).click()
    service_url = page.url
    page.get_by_role("link", name="Modifier le service").click()
    withdraw = page.get_by_role("button", name="Confirmer le retrait")
    expect(withdraw).to_be_hidden()  # a second step: the button shows once the manager asks to withdraw
    page.get_by_text("Retirer ce service de l'annuaire").click()
    expect(page.locator("details.confirm")).to_contain_text("vous pourrez le remettre dans l'annuaire")
    withdraw.click()
    flash(page, "Service retiré de l'annuaire.")

    page.goto(service_url)
    banner = page.get_by_role("status").filter(has_text="Ce service est retiré de l'annuaire")
    expect(banner).to_be_visible()
    audit.check(page, "annuaire : service retiré")
    screenshot(page, "annuaire-service-retire")
    banner.get_by_role("button", name="Remettre dans l'annuaire").click()
    flash(page, "Service de retour dans l'annuaire.")
    expect(page.get_by_role("status").filter(has_text="Ce service est retiré")).to_have_count(0)
