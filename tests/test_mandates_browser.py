"""Mandates' pages in a real Chromium over the demo town: an aidant makes a 12-month mandate for three scopes, both
signatures are drawn on the pads with the mouse, the mandate is finalised and its sealed PDF downloaded and checked
(the hub's seal), the QR code printed on it leads to "valide", and after revocation to "révoqué"; the manager's
pages; the pages without JavaScript (signing on paper). axe-core on every page, screenshots at desktop and phone
widths (tests/browser_support.py)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from hub import demo
from hub.mandates.seal import HubSeal
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
from tests.test_mandates import scanned_pdf

pytestmark = pytest.mark.browser

AIDANT = demo_user("aidant.franceservices@demo.maillage.fr")
MANAGER = demo_user("referente.ccas@demo.maillage.fr")
FIRST, LAST = "Lucie", "Moreau-Vasseur"
SCOPES = ("Papiers - Citoyenneté - Élections", "Social - Santé", "Argent - Impôts - Consommation")


def sign_in(page: Page, user: demo.DemoUser, phone: TotpPhone) -> None:
    page.goto("/connexion")
    page.get_by_label("Adresse e-mail").fill(user.email)
    page.get_by_label("Mot de passe", exact=True).fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(re.compile(r"/connexion/code$"))
    page.get_by_label("Code à 6 chiffres, ou code de secours").fill(phone.code(phone.secrets[user.email]))
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("status").filter(has_text="Vous êtes connecté.")).to_be_visible()


def flash(page: Page, text: str) -> None:
    expect(page.locator("main [role=status]").filter(has_text=text)).to_be_visible()


def look(page: Page, audit: AccessibilityAudit, label: str, shot: str) -> None:
    audit.check(page, label)
    screenshot(page, shot)


def draw(canvas: Locator, page: Page, shape: list[tuple[float, float]]) -> None:
    """Draw a stroke with the mouse through points given as fractions of the canvas."""
    canvas.scroll_into_view_if_needed()  # the mouse works in the viewport's coordinates
    box = canvas.bounding_box()
    assert box is not None
    points = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in shape]
    page.mouse.move(*points[0])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x, y, steps=8)
    page.mouse.up()


def qr_url(pdf: bytes) -> str:
    """The address the QR code printed on the PDF opens (pdftoppm, then zbarimg)."""
    pdftoppm, zbarimg = shutil.which("pdftoppm"), shutil.which("zbarimg")
    assert pdftoppm and zbarimg, "poppler-utils and zbar-tools are test dependencies"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mandat.pdf"
        path.write_bytes(pdf)
        subprocess.run([pdftoppm, "-r", "150", "-png", str(path), str(Path(folder) / "page")], check=True)  # noqa: S603
        for image in sorted(Path(folder).glob("page*.png")):
            found = subprocess.run(  # noqa: S603 (our own file)
                [zbarimg, "--quiet", "--raw", str(image)], capture_output=True, text=True, check=False
            )
            if found.returncode == 0 and "/verifier/" in found.stdout:
                return found.stdout.strip().splitlines()[0]
    raise AssertionError("no QR code leading to /verifier/ on the sealed PDF")


def test_a_mandate_from_the_resident_to_its_revocation(
    new_page: Callable[..., Page], audit: AccessibilityAudit, phone: TotpPhone, live_server: LiveServer
) -> None:
    aidant = new_page(accept_downloads=True)
    sign_in(aidant, AIDANT, phone)
    aidant.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Mandats").click()
    expect(aidant.get_by_role("heading", level=1)).to_have_text("Mandats")
    expect(aidant.locator("table.mandates tbody tr").first).to_be_visible()  # the demo's valid mandates
    look(aidant, audit, "mandats valides", "mandats-valides")
    for tab, shot in (
        ("Bientôt expirés", "mandats-echeance"),
        ("Projets à signer", "mandats-projets"),
        ("Historique", "mandats-historique"),
    ):
        aidant.get_by_role("navigation", name="Onglets des mandats").get_by_role("link", name=tab).click()
        expect(aidant.get_by_role("link", name=tab)).to_have_attribute("aria-current", "page")
        look(aidant, audit, f"mandats : {tab}", shot)

    # the resident: a new one (the empty form first comes back with its errors)
    aidant.get_by_role("link", name="Faire un mandat").click()
    expect(aidant).to_have_url(re.compile(r"/mandats/nouveau$"))
    look(aidant, audit, "faire un mandat : la personne", "mandat-personne")
    aidant.get_by_role("button", name="Créer le dossier et continuer").click()
    expect(aidant.get_by_label("Prénom", exact=True)).to_have_attribute("aria-invalid", "true")
    look(aidant, audit, "faire un mandat : la personne, erreurs", "mandat-personne-erreurs")
    aidant.get_by_label("Prénom", exact=True).fill(FIRST)
    aidant.get_by_label("Nom", exact=True).fill(LAST)
    aidant.get_by_role("button", name="Créer le dossier et continuer").click()

    # the scopes with their pictograms, the duration
    expect(aidant.get_by_role("heading", level=1)).to_have_text(f"Mandat pour {FIRST} {LAST}")
    expect(aidant.get_by_text("Un dossier de surendettement doit être signé par vous-même.")).to_be_visible()
    look(aidant, audit, "faire un mandat : les démarches", "mandat-demarches")
    for label in SCOPES:
        aidant.get_by_label(label).check()
    aidant.get_by_label("12 mois").check()
    aidant.get_by_role("button", name="Voir le résumé à lire à la personne").click()

    # the recap to read aloud, the legal question, the fresh code
    expect(aidant.get_by_role("heading", name="Le mandat, en mots simples")).to_be_visible()
    look(aidant, audit, "faire un mandat : le résumé", "mandat-resume")
    aidant.get_by_label(re.compile("La personne répond non")).check()
    aidant.get_by_label("Code à 6 chiffres de votre application d'authentification").fill("000000")
    aidant.get_by_role("button", name="Créer le projet de mandat").click()
    expect(aidant.get_by_role("alert")).to_contain_text("Code incorrect")
    look(aidant, audit, "faire un mandat : code refusé", "mandat-code-refuse")
    aidant.get_by_label(re.compile("La personne répond non")).check()
    aidant.get_by_label("Code à 6 chiffres de votre application d'authentification").fill(
        phone.code(phone.secrets[AIDANT.email])
    )
    aidant.get_by_role("button", name="Créer le projet de mandat").click()
    flash(aidant, "Projet de mandat créé")
    mandate_url = aidant.url
    expect(aidant.get_by_text("Projet, sans valeur.")).to_be_visible()
    look(aidant, audit, "projet de mandat", "mandat-projet")

    # both signatures drawn with the mouse on the pads
    aidant.get_by_role("link", name="Signer sur l'écran").click()
    expect(aidant.locator("#sans-javascript")).to_be_hidden()
    look(aidant, audit, "signer sur l'écran", "mandat-signer")
    pads = aidant.locator("canvas.signature-canvas")
    expect(pads).to_have_count(2)
    draw(pads.nth(0), aidant, [(0.1, 0.7), (0.25, 0.3), (0.4, 0.75), (0.6, 0.35), (0.85, 0.6)])
    expect(aidant.locator(".signature-state").first).to_have_text("Signature dessinée.")
    # the aidant forgot theirs: the resident's drawing comes back in its frame, not to be signed again
    aidant.get_by_role("button", name="Enregistrer les deux signatures").click()
    expect(aidant.get_by_role("alert")).to_contain_text("La signature de l'aidant manque")
    expect(aidant.locator(".signature-state").first).to_have_text("Signature gardée.")
    inked = "c => c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some((v, i) => i % 4 === 3 && v > 0)"
    aidant.wait_for_function(f"({inked})(document.querySelector('canvas.signature-canvas'))")
    assert not pads.nth(1).evaluate(inked)
    draw(pads.nth(1), aidant, [(0.15, 0.5), (0.35, 0.8), (0.55, 0.25), (0.8, 0.7)])
    aidant.get_by_role("button", name="Enregistrer les deux signatures").click()
    flash(aidant, "Signatures enregistrées")
    aidant.get_by_role("button", name="Finaliser le mandat").click()
    flash(aidant, "Mandat finalisé et scellé")
    expect(aidant.locator("h1 .status")).to_have_text("Valide")
    look(aidant, audit, "mandat valide", "mandat-valide")

    # the sealed PDF: signed by the hub; its QR code leads to "valide"
    with aidant.expect_download() as download:
        aidant.get_by_role("link", name="Le mandat signé et scellé (PDF)").click()
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    assert live_server.runtime is not None
    check = live_server.runtime.state(HubSeal).check(pdf)
    assert check.ok, check.reason_fr
    verify_url = qr_url(pdf)
    assert verify_url.startswith(live_server.url + "/verifier/")
    public = new_page()
    public.goto(verify_url)
    expect(public.locator("#verdict")).to_have_text("Valide")
    expect(public.get_by_text("L. M.", exact=True)).to_be_visible()
    assert FIRST not in public.content() and "Moreau" not in public.content()
    look(public, audit, "vérification : valide", "verifier-valide")

    # revoke the whole mandate: the same page says "révoqué" at once
    aidant.goto(mandate_url)
    aidant.get_by_role("link", name="Arrêter le mandat").click()
    expect(aidant).to_have_url(re.compile(r"/mandats/\d+/revoquer$"))
    look(aidant, audit, "annuler le mandat", "mandat-annuler")
    aidant.get_by_role("button", name="Arrêter maintenant").click()
    expect(aidant.get_by_role("alert")).to_contain_text("Cochez la case")
    aidant.get_by_label("La personne demande cet arrêt.").check()
    aidant.get_by_role("button", name="Arrêter maintenant").click()
    flash(aidant, "Mandat arrêté")
    expect(aidant.get_by_role("link", name=re.compile("L'attestation de fin de mandat"))).to_be_visible()
    look(aidant, audit, "mandat annulé", "mandat-annule")
    public.goto(verify_url)
    expect(public.locator("#verdict")).to_have_text("Arrêté")
    look(public, audit, "vérification : révoqué", "verifier-revoque")

    # an expired mandate of the demo: its verification page says so
    aidant.goto("/mandats?onglet=historique")
    row = aidant.locator("table.mandates tbody tr").filter(has_text="Expiré").first
    row.get_by_role("link").first.click()
    expired_url = aidant.locator("a.verify-link").inner_text()
    public.goto(expired_url)
    expect(public.locator("#verdict")).to_have_text("Expiré")
    look(public, audit, "vérification : expiré", "verifier-expire")

    aidant.goto("/mandats/charte")
    expect(aidant.get_by_text("Vous avez accepté cette version de la charte.")).to_be_visible()
    look(aidant, audit, "charte (acceptée)", "mandats-charte")


def test_the_managers_pages(new_page: Callable[..., Page], audit: AccessibilityAudit, phone: TotpPhone) -> None:
    manager = new_page()
    sign_in(manager, MANAGER, phone)
    manager.goto("/mandats")
    manager.get_by_role("link", name="Les habilitations").click()
    expect(manager.get_by_role("heading", level=1)).to_have_text("Habilitations des aidants")
    look(manager, audit, "habilitations", "mandats-habilitations")
    manager.goto("/mandats")
    manager.get_by_role("link", name="Les modèles de documents").click()
    expect(manager.get_by_role("heading", level=1)).to_have_text("Les modèles de documents")
    look(manager, audit, "modèles de documents", "mandats-modeles")


def test_signing_on_paper_without_javascript(
    new_page: Callable[..., Page], audit: AccessibilityAudit, phone: TotpPhone
) -> None:
    page = new_page(java_script_enabled=False)
    sign_in(page, AIDANT, phone)
    page.goto("/mandats?onglet=projets")
    page.locator("table.mandates tbody tr").first.get_by_role("link").click()
    page.get_by_role("link", name="Signer sur l'écran").click()
    expect(page.locator("#sans-javascript")).to_be_visible()
    expect(page.get_by_role("button", name="Enregistrer les deux signatures")).to_be_hidden()
    screenshot(page, "mandat-signer-sans-javascript")
    page.locator("#sans-javascript").get_by_role("link", name="Signez sur papier").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Signer sur papier")
    screenshot(page, "mandat-papier")
    page.get_by_label("Le scan signé").set_input_files(
        files=[{"name": "scan.txt", "mimeType": "text/plain", "buffer": b"pas un scan"}]
    )
    page.get_by_role("button", name="Envoyer le scan").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_label("Le scan signé")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "mandat-papier-erreur")
    page.get_by_label("Le scan signé").set_input_files(
        files=[{"name": "scan.pdf", "mimeType": "application/pdf", "buffer": scanned_pdf()}]
    )
    page.get_by_role("button", name="Envoyer le scan").click()
    expect(page.locator("main [role=status]").filter(has_text="Scan enregistré")).to_be_visible()
    expect(page.get_by_role("button", name="Finaliser le mandat")).to_be_visible()


def test_the_pages_pass_axe_with_a_phone_width(
    new_page: Callable[..., Page], audit: AccessibilityAudit, phone: TotpPhone
) -> None:
    page = new_page()
    sign_in(page, AIDANT, phone)
    page.goto("/mandats?onglet=projets")
    page.locator("table.mandates tbody tr").first.get_by_role("link").click()
    page.get_by_role("link", name="Signer sur papier").click()
    expect(page).to_have_url(re.compile(r"/mandats/\d+/papier$"))
    look(page, audit, "signer sur papier", "mandat-papier-js")
