"""The mandates' pages: a partial revocation says what stops and what goes on (flash and
attestation), every form reports all its errors at once beside their fields and keeps what was typed, ticked or
drawn, the history shows the scopes a revoked mandate had, one word ("arrêter") for revoking."""

from __future__ import annotations

import re
import subprocess

import httpx
import pytest

from hub.documents import find_soffice
from hub.mandates import documents
from hub.mandates.documents import render_mandate, render_revocation
from hub.mandates.tables import Mandate, Resident
from hub.runtime import Runtime
from tests.test_mandate_documents import errors_of, flat
from tests.test_mandate_pages import (
    build,
    draft_form,
    drawing,
    fresh_code,
    new_resident,
    post,
    ready_aidant,
)

needs_libreoffice = pytest.mark.skipif(find_soffice() is None, reason="LibreOffice absent")


# ---------------------------------------------------------------- the documents
def test_a_partial_revocation_attestation_says_what_continues_not_that_the_mandate_ends() -> None:
    partial = render_revocation(documents.sample_revocation())
    assert errors_of(partial) == []
    text = flat(partial)
    assert "Attestation de changement de mandat" in text and "Attestation de fin de mandat" not in text
    assert "Vous avez demandé d'arrêter une partie de votre mandat." in text
    assert "Votre mandat continue pour les autres démarches." in text
    assert "Vous avez demandé d'arrêter votre mandat." not in text

    whole = render_revocation(documents.sample_revocation(revoked_scopes=documents.ALL_SCOPES, remaining_scopes=()))
    assert errors_of(whole) == []
    text = flat(whole)
    assert "Attestation de fin de mandat" in text and "changement" not in text
    assert "Vous avez demandé d'arrêter votre mandat." in text and "Votre mandat est fini." in text


def test_the_birth_date_is_written_out_without_its_weekday() -> None:
    text = flat(render_mandate(documents.sample_mandate()))
    assert "Votre date de naissance : 12 avril 1958" in text and "samedi 12 avril 1958" not in text


# ---------------------------------------------------------------- the forms
async def test_the_new_person_form_reports_every_error_at_once(client: httpx.AsyncClient, rt: Runtime) -> None:
    town = await build(rt)
    await ready_aidant(client, town)
    page = await post(
        client,
        "/mandats/nouveau/personne",
        {"structure_id": str(town.ccas), "first_name": "A" * 106, "last_name": "", "birth_date": "2030-01-01"},
    )
    assert page.status_code == 400
    for field in ("first_name", "last_name", "birth_date"):
        assert f'id="{field}-error"' in page.text, field
    assert "Indiquez le nom de la personne." in page.text
    assert "Le prénom compte 80 caractères au plus : il en a 106." in page.text
    assert "de 1 à 80" not in page.text
    assert await Resident.count() == 0


async def test_the_recap_reports_a_wrong_code_and_the_missing_box_together_and_keeps_the_box(
    client: httpx.AsyncClient, rt: Runtime
) -> None:
    town = await build(rt)
    await ready_aidant(client, town)
    resident_id = await new_resident(client, town)
    wrong_code = await post(client, "/mandats/nouveau", draft_form(town, resident_id, totp_code="000000"))
    assert wrong_code.status_code == 400 and 'id="totp_code-error"' in wrong_code.text
    assert re.search(r'name="no_legal_protection" value="on" checked', wrong_code.text)
    both = await post(
        client, "/mandats/nouveau", draft_form(town, resident_id, totp_code="000000", no_legal_protection="")
    )
    assert both.status_code == 400
    assert 'id="totp_code-error"' in both.text and 'id="no_legal_protection-error"' in both.text
    # a right code with the box missing is told right, and not spent: it still makes the draft
    code = fresh_code(town.aidant)
    unticked = await post(
        client, "/mandats/nouveau", draft_form(town, resident_id, totp_code=code, no_legal_protection="")
    )
    assert unticked.status_code == 400 and 'id="totp_code-error"' not in unticked.text
    created = await post(client, "/mandats/nouveau", draft_form(town, resident_id, totp_code=code))
    assert re.fullmatch(r"/mandats/\d+", created.url.path), created.text
    assert await Mandate.count() == 1


async def test_the_unknown_tab_lists_the_four_tabs(client: httpx.AsyncClient, rt: Runtime) -> None:
    town = await build(rt)
    await ready_aidant(client, town)
    page = await client.get("/mandats?onglet=nimportequoi")
    assert page.status_code == 400
    assert "Valides, Bientôt expirés, Projets à signer, Historique" in page.text


def pdf_text(pdf: bytes) -> str:
    done = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True, timeout=60)  # noqa: S607
    return " ".join(done.stdout.decode().split())


@needs_libreoffice
async def test_signing_revoking_partly_then_wholly_through_the_pages(client: httpx.AsyncClient, rt: Runtime) -> None:
    town = await build(rt)
    await ready_aidant(client, town)
    resident_id = await new_resident(client, town)
    created = await post(client, "/mandats/nouveau", draft_form(town, resident_id, totp_code=fresh_code(town.aidant)))
    mandate_id = int(created.url.path.rsplit("/", 1)[1])

    # only the resident signed: their drawing comes back in its frame
    signature = drawing()
    half = await post(client, f"/mandats/{mandate_id}/signer", {"resident_signature": signature})
    assert half.status_code == 400 and 'id="aidant_signature-error"' in half.text
    assert f'name="resident_signature" value="{signature}"' in half.text
    assert 'name="aidant_signature" value=""' in half.text and "Signature gardée." in half.text
    signed = await post(
        client, f"/mandats/{mandate_id}/signer", {"resident_signature": signature, "aidant_signature": drawing()}
    )
    assert "Signatures enregistrées" in signed.text
    finalised = await post(client, f"/mandats/{mandate_id}/finaliser", {})
    assert "Mandat finalisé et scellé" in finalised.text, finalised.text

    # the revocation form: every error at once, beside its field, the box kept ticked, the note kept
    form = await client.get(f"/mandats/{mandate_id}/revoquer")
    assert "Arrêter maintenant" in form.text and "Ne rien arrêter" in form.text and "Annuler" not in form.text
    assert '<div class="form-actions">' in form.text
    note = "n" * 230
    bad = await post(client, f"/mandats/{mandate_id}/revoquer", {"what": "some", "reason": note, "confirm": "on"})
    assert bad.status_code == 400
    assert 'id="scopes-error"' in bad.text and 'id="reason-error"' in bad.text
    assert "La note compte 200 caractères au plus : elle en a 230." in bad.text
    assert 'aria-describedby="reason-hint reason-error"' in bad.text
    assert re.search(r'name="confirm" value="on" checked', bad.text) and f'value="{note}"' in bad.text
    unticked = await post(client, f"/mandats/{mandate_id}/revoquer", {"what": "all", "reason": note})
    assert 'id="confirm-error"' in unticked.text and 'id="reason-error"' in unticked.text

    # a partial revocation says what stops and what goes on, on the page and on the paper
    partly = await post(
        client, f"/mandats/{mandate_id}/revoquer", {"what": "some", "scopes": ["argent"], "confirm": "on"}
    )
    assert "Démarches arrêtées : Argent - Impôts - Consommation." in partly.text
    assert "Le mandat reste valide pour : Papiers - Citoyenneté - Élections, Social - Santé." in partly.text
    assert "Mandat annulé" not in partly.text and "Mandat arrêté" not in partly.text
    link = re.search(r'href="(/mandats/revocations/\d+/attestation\.pdf)"[^>]*>([^<]+)<', partly.text)
    assert link and "changement de mandat" in link.group(2)
    text = pdf_text((await client.get(link.group(1))).content)
    assert "Attestation de changement de mandat" in text and "fin de mandat" not in text
    assert "Social - Santé" in text and "Votre mandat continue pour les autres démarches." in text

    # the rest: the mandate is over, and the history still shows the scopes it had
    whole = await post(client, f"/mandats/{mandate_id}/revoquer", {"what": "all", "confirm": "on"})
    assert "Mandat arrêté : il n&#39;a plus de valeur." in whole.text
    history = await client.get("/mandats?onglet=historique")
    row = re.search(rf"<tr>\s*<td[^>]*><a href=\"/mandats/{mandate_id}\">.*?</tr>", history.text, re.S)
    assert row
    for label in ("Papiers - Citoyenneté - Élections", "Social - Santé", "Argent - Impôts - Consommation"):
        assert f"<del>{label}</del> (arrêtée)" in row.group(0)
    assert "Arrêté" in row.group(0) and "Révoqué" not in history.text
