"""Mandates' pages through the whole app (httpx on ASGI): the manager habilitates, the aidant accepts the charter,
creates a resident and a draft with a fresh TOTP code, signs on screen, finalises (real LibreOffice, the hub's
seal), revokes; forms that come back with French errors and nothing written; another structure's aidant gets
404; the public verification page shows initials only."""

from __future__ import annotations

import base64
import dataclasses
import io
import re
import time

import httpx
import pyotp
import pytest
from PIL import Image, ImageDraw

from hub import accounts
from hub.mandates.seal import HubSeal
from hub.mandates.tables import Mandate, Resident
from hub.runtime import Runtime
from tests.conftest import Person, csrf_token, make_person, make_structure

RESIDENT_FIRST, RESIDENT_LAST = "Awa", "Diallo-Ndiaye"


@dataclasses.dataclass
class Town:
    ccas: int
    other: int
    manager: Person
    aidant: Person
    outsider: Person


async def build(rt: Runtime) -> Town:
    ccas = await make_structure("CCAS de Montclair", "CCAS", address="2 place de la Mairie", phone="02 38 00 00 01")
    other = await make_structure("Centre social Bel-Air", "CS")
    return Town(
        ccas=ccas,
        other=other,
        manager=await make_person(rt, "rene.referent@ccas.example.fr", {ccas: ["manager"]}),
        aidant=await make_person(rt, "alice.aidante@ccas.example.fr", {ccas: ["aidant"]}),
        outsider=await make_person(rt, "tom.tiers@belair.example.fr", {other: ["aidant", "manager"]}),
    )


_LAST_STEP: dict[str, int] = {}


def fresh_code(person: Person) -> str:
    """A code of a step the hub has not seen yet for this person (it refuses a replay, and accepts one step ahead)."""
    assert person.totp_secret
    totp = pyotp.TOTP(person.totp_secret)
    now_step = int(time.time() // totp.interval)
    step = max(now_step, _LAST_STEP.get(person.totp_secret, -1) + 1)
    if step > now_step + 1:  # beyond the window the hub accepts: wait as a person would
        time.sleep((step - 1) * totp.interval - time.time() + 0.5)
    _LAST_STEP[person.totp_secret] = step
    return totp.generate_otp(step)


async def sign_in(client: httpx.AsyncClient, person: Person) -> None:
    """The page flow (password, then a code the hub has not seen yet)."""
    await client.get("/connexion")
    response = await post(client, "/connexion", {"email": person.email, "password": person.password})
    if person.totp_secret:
        assert response.url.path == "/connexion/code", response.text
        response = await post(client, "/connexion/code", {"code": fresh_code(person)})
    assert response.url.path == "/", response.text


async def switch_to(client: httpx.AsyncClient, person: Person) -> None:
    client.cookies.clear()
    await sign_in(client, person)


async def post(client: httpx.AsyncClient, path: str, form: dict[str, str | list[str]]) -> httpx.Response:
    return await client.post(path, data={**form, "_csrf_token": csrf_token(client)})


def drawing(width: int = 600, height: int = 220) -> str:
    """A signature as the pad posts it: a PNG data URL with a stroke on it."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(40, 150), (160, 60), (300, 170), (520, 80)], fill=(22, 22, 22, 255), width=4)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


async def ready_aidant(client: httpx.AsyncClient, town: Town) -> None:
    """The manager habilitates the aidant; the aidant accepts the charter (both through the pages)."""
    await switch_to(client, town.manager)
    listed = await client.get("/mandats/habilitations")
    assert listed.status_code == 200 and "Alice Aidante" in listed.text
    granted = await post(
        client,
        "/mandats/habilitations",
        {"structure_id": str(town.ccas), "user_id": str(town.aidant.id), "action": "grant"},
    )
    assert "Habilitation donnée." in granted.text
    await switch_to(client, town.aidant)
    page = await client.get("/mandats/charte")
    version = re.search(r'name="version" value="([^"]+)"', page.text)
    assert version
    accepted = await post(client, "/mandats/charte", {"version": version.group(1), "accept": "on"})
    assert accepted.url.path == "/mandats" and "Charte acceptée" in accepted.text


async def new_resident(client: httpx.AsyncClient, town: Town) -> int:
    created = await post(
        client,
        "/mandats/nouveau/personne",
        {"structure_id": str(town.ccas), "first_name": RESIDENT_FIRST, "last_name": RESIDENT_LAST},
    )
    assert created.url.path == "/mandats/nouveau", created.text
    return int(created.url.params["personne"])


def draft_form(town: Town, resident_id: int, **overrides: str | list[str]) -> dict[str, str | list[str]]:
    form: dict[str, str | list[str]] = {
        "step": "create",
        "structure_id": str(town.ccas),
        "resident_id": str(resident_id),
        "scopes": ["papiers", "social", "argent"],
        "duration_days": "365",
        "no_legal_protection": "on",
        "totp_code": "",
    }
    form.update(overrides)
    return form


async def mandate_count() -> int:
    return await Mandate.count()


# ---------------------------------------------------------------- the whole way, through the pages
async def test_habilitation_charter_draft_signatures_finalise_verify_and_revoke(
    client: httpx.AsyncClient, rt: Runtime
) -> None:
    town = await build(rt)

    # an aidant who has not accepted the charter is sent there first
    await sign_in(client, town.aidant)
    sent = await client.get("/mandats/nouveau")
    assert sent.url.path == "/mandats/charte"
    assert "Lisez et acceptez la charte" in sent.text and "Accepter la charte" in sent.text
    refused = await post(client, "/mandats/charte", {"version": "2026-11", "accept": ""})
    assert refused.status_code == 400 and "Cochez la case" in refused.text

    await ready_aidant(client, town)
    listing = await client.get("/mandats")
    assert listing.status_code == 200 and "Faire un mandat" in listing.text

    # the resident: a form that comes back with its values and the error beside the field
    bad = await post(
        client, "/mandats/nouveau/personne", {"structure_id": str(town.ccas), "first_name": "", "last_name": "Diallo"}
    )
    assert bad.status_code == 400
    assert 'id="first_name-error"' in bad.text and 'value="Diallo"' in bad.text
    assert await Resident.count() == 0
    resident_id = await new_resident(client, town)
    found = await post(client, "/mandats/nouveau/chercher", {"structure_id": str(town.ccas), "q": "dial"})
    assert found.status_code == 200 and f"personne={resident_id}" in found.text
    assert "dial" not in str(found.url)  # a name never goes into a URL

    # the choices: no scope, an unknown duration
    choice = await client.get(f"/mandats/nouveau?personne={resident_id}&structure={town.ccas}")
    assert choice.status_code == 200 and "papiers.png" in choice.text and "surendettement" in choice.text
    empty = await post(
        client,
        "/mandats/nouveau",
        {"step": "recap", "structure_id": str(town.ccas), "resident_id": str(resident_id), "duration_days": "30"},
    )
    assert empty.status_code == 400
    assert "Choisissez au moins une démarche." in empty.text and "Durée inconnue" in empty.text

    # the recap to read aloud, with the legal-protection question
    recap = await post(
        client,
        "/mandats/nouveau",
        {**draft_form(town, resident_id), "step": "recap", "no_legal_protection": "", "totp_code": ""},
    )
    assert recap.status_code == 200
    assert "tutelle" in recap.text and "Le mandat dure <strong>12 mois</strong>" in recap.text
    assert "Ce mandat remplace" not in recap.text

    # the step-up: no code, a wrong code, no answer to the legal question: nothing created
    no_code = await post(client, "/mandats/nouveau", draft_form(town, resident_id))
    assert no_code.status_code == 400 and "Tapez le code à 6 chiffres" in no_code.text
    wrong = await post(client, "/mandats/nouveau", draft_form(town, resident_id, totp_code="000000"))
    assert wrong.status_code == 400 and "Code incorrect, expiré ou déjà utilisé" in wrong.text
    assert 'aria-invalid="true" aria-describedby="totp_code-hint totp_code-error"' in wrong.text
    unanswered = await post(
        client, "/mandats/nouveau", draft_form(town, resident_id, no_legal_protection="", totp_code="123456")
    )
    assert unanswered.status_code == 400 and "tutelle, une curatelle" in unanswered.text
    assert await mandate_count() == 0

    created = await post(client, "/mandats/nouveau", draft_form(town, resident_id, totp_code=fresh_code(town.aidant)))
    assert re.fullmatch(r"/mandats/\d+", created.url.path), created.text
    mandate_id = int(created.url.path.rsplit("/", 1)[1])
    assert "Projet de mandat créé" in created.text and "Projet, sans valeur" in created.text
    draft = await client.get(f"/mandats/{mandate_id}/projet.docx")
    assert draft.status_code == 200 and draft.content.startswith(b"PK")
    assert RESIDENT_LAST not in draft.headers["content-disposition"]

    # signing: a bad image is refused in French, nothing kept
    sign_page = await client.get(f"/mandats/{mandate_id}/signer")
    assert sign_page.status_code == 200 and "/static/js/signature-pad.js" in sign_page.text
    assert "Signez sur papier" in sign_page.text  # the way without JavaScript
    not_image = "data:image/png;base64," + base64.b64encode(b"GIF89a not a png at all").decode()
    bad_sign = await post(
        client, f"/mandats/{mandate_id}/signer", {"resident_signature": not_image, "aidant_signature": drawing()}
    )
    assert bad_sign.status_code == 400 and "n&#39;est pas une image" in bad_sign.text
    missing = await post(client, f"/mandats/{mandate_id}/signer", {"resident_signature": drawing()})
    assert missing.status_code == 400 and "La signature de l&#39;aidant manque" in missing.text
    blank = await post(
        client,
        f"/mandats/{mandate_id}/signer",
        {"resident_signature": drawing(), "aidant_signature": _blank_png()},
    )
    assert blank.status_code == 400 and "Le cadre est vide" in blank.text
    row = await Mandate.select(Mandate.status, Mandate.resident_signature).where(Mandate.id == mandate_id).first()
    assert row == {"status": "draft", "resident_signature": None}

    signed = await post(
        client, f"/mandats/{mandate_id}/signer", {"resident_signature": drawing(), "aidant_signature": drawing()}
    )
    assert "Signatures enregistrées" in signed.text and "Finaliser le mandat" in signed.text

    finalised = await post(client, f"/mandats/{mandate_id}/finaliser", {})
    assert "Mandat finalisé et scellé" in finalised.text, finalised.text
    pdf = await client.get(f"/mandats/{mandate_id}/mandat.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert rt.state(HubSeal).check(pdf.content).ok

    # the public page: valid, initials only, never indexed
    code = (await Mandate.select(Mandate.public_code).where(Mandate.id == mandate_id).first())["public_code"]  # type: ignore[index]
    public = httpx.AsyncClient(transport=client._transport, base_url=str(client.base_url))
    verify = await public.get(f"/verifier/{code}")
    assert verify.status_code == 200
    assert "Valide" in verify.text and "A. D." in verify.text
    assert RESIDENT_FIRST not in verify.text and RESIDENT_LAST not in verify.text
    assert verify.headers["x-robots-tag"] == "noindex, nofollow"
    assert "Papiers - Citoyenneté - Élections" in verify.text and "CCAS de Montclair" in verify.text

    # a second mandate for one of the same scopes says first that it replaces it
    again = await post(
        client,
        "/mandats/nouveau",
        {
            "step": "recap",
            "structure_id": str(town.ccas),
            "resident_id": str(resident_id),
            "scopes": ["papiers"],
            "duration_days": "31",
        },
    )
    assert "Ce mandat remplace un mandat en cours" in again.text and "Papiers - Citoyenneté - Élections" in again.text

    # renewal: a new draft of the same scopes, confirmed with a fresh code
    renew_page = await client.get(f"/mandats/{mandate_id}/renouveler")
    assert renew_page.status_code == 200 and "Social - Santé" in renew_page.text
    no_code = await post(client, f"/mandats/{mandate_id}/renouveler", {"totp_code": ""})
    assert no_code.status_code == 400 and "Tapez le code à 6 chiffres" in no_code.text
    renewed = await post(client, f"/mandats/{mandate_id}/renouveler", {"totp_code": fresh_code(town.aidant)})
    assert "Nouveau projet de mandat créé" in renewed.text and renewed.url.path != f"/mandats/{mandate_id}"
    assert "Projet, sans valeur" in renewed.text

    # revoke: the confirmation is required; then the public page says so at once
    unconfirmed = await post(client, f"/mandats/{mandate_id}/revoquer", {"what": "all"})
    assert unconfirmed.status_code == 400 and "Cochez la case" in unconfirmed.text
    some_without_scope = await post(client, f"/mandats/{mandate_id}/revoquer", {"what": "some", "confirm": "on"})
    assert some_without_scope.status_code == 400 and "Choisissez au moins une démarche." in some_without_scope.text
    revoked = await post(client, f"/mandats/{mandate_id}/revoquer", {"what": "all", "confirm": "on"})
    assert "Mandat arrêté" in revoked.text
    attestation = re.search(r'href="(/mandats/revocations/\d+/attestation\.pdf)"', revoked.text)
    assert attestation
    revocation = await client.get(attestation.group(1))
    assert revocation.status_code == 200 and rt.state(HubSeal).check(revocation.content).ok
    after = await public.get(f"/verifier/{code}")
    assert "Arrêté" in after.text
    await public.aclose()


def _blank_png() -> str:
    out = io.BytesIO()
    Image.new("RGBA", (600, 220), (0, 0, 0, 0)).save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


# ---------------------------------------------------------------- who sees what
async def test_another_structures_aidant_gets_404_everywhere(client: httpx.AsyncClient, rt: Runtime) -> None:
    town = await build(rt)
    await ready_aidant(client, town)
    resident_id = await new_resident(client, town)
    created = await post(client, "/mandats/nouveau", draft_form(town, resident_id, totp_code=fresh_code(town.aidant)))
    mandate_id = int(created.url.path.rsplit("/", 1)[1])

    await switch_to(client, town.outsider)
    for path in ("", "/signer", "/papier", "/projet.docx", "/revoquer", "/renouveler"):
        response = await client.get(f"/mandats/{mandate_id}{path}")
        # the outsider has not accepted the charter: renewing sends there first, never telling the mandate exists
        assert response.status_code == 404 or response.url.path == "/mandats/charte", (path, response.status_code)
        assert RESIDENT_LAST not in response.text
    choice = await client.get(f"/mandats/nouveau?personne={resident_id}&structure={town.ccas}")
    assert RESIDENT_LAST not in choice.text
    signed = await post(
        client, f"/mandats/{mandate_id}/signer", {"resident_signature": drawing(), "aidant_signature": drawing()}
    )
    assert signed.status_code == 404
    withdrawn = await post(
        client,
        "/mandats/habilitations",
        {"structure_id": str(town.ccas), "user_id": str(town.aidant.id), "action": "withdraw"},
    )
    assert withdrawn.status_code == 404


async def test_a_member_without_a_mandate_role_is_refused(client: httpx.AsyncClient, rt: Runtime) -> None:
    structure = await make_structure("CAF du Loiret", "CAF")
    prescriber = await make_person(rt, "paula@caf.example.fr", {structure: ["prescriber"]})
    await sign_in(client, prescriber)
    assert (await client.get("/mandats")).status_code == 403
    assert (await client.get("/mandats/habilitations")).status_code == 403


async def test_without_habilitation_the_aidant_is_told_why(client: httpx.AsyncClient, rt: Runtime) -> None:
    town = await build(rt)
    await sign_in(client, town.aidant)
    page = await client.get("/mandats/charte")
    version = re.search(r'name="version" value="([^"]+)"', page.text)
    assert version
    await post(client, "/mandats/charte", {"version": version.group(1), "accept": "on"})
    listing = await client.get("/mandats")
    assert "ne vous a pas encore habilité" in listing.text
    new = await client.get("/mandats/nouveau")
    assert "ne vous a pas encore habilité" in new.text and 'name="first_name"' not in new.text
    # a manager who makes no mandate still reads the structure's lists
    await switch_to(client, town.manager)
    managed = await client.get("/mandats?onglet=historique")
    assert managed.status_code == 200 and "Onglets des mandats" in managed.text
    assert "Vous ne pouvez pas encore faire de mandat" in managed.text and "Les habilitations" in managed.text


async def test_verification_page_of_an_unknown_code_is_a_french_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/verifier/nimportequoi")
    assert response.status_code == 404
    assert "Ce code ne correspond à aucun mandat" in response.text
    assert response.headers["x-robots-tag"] == "noindex, nofollow"


async def test_manager_uploads_a_variant_that_fails_and_cannot_activate_it(
    client: httpx.AsyncClient, rt: Runtime
) -> None:
    town = await build(rt)
    await sign_in(client, town.manager)
    page = await client.get("/mandats/modeles")
    assert page.status_code == 200 and "Envoyer et vérifier" in page.text
    not_docx = await client.post(
        "/mandats/modeles",
        data={"structure_id": str(town.ccas), "kind": "mandat", "_csrf_token": csrf_token(client)},
        files={"file": ("modele.docx", b"not a word file", "application/octet-stream")},
    )
    assert not_docx.status_code == 400 and "Envoyez un fichier .docx." in not_docx.text
    network = await client.get("/mandats/modeles/reseau/mandat.docx")
    assert network.status_code == 200 and network.content.startswith(b"PK")
    # the network's template with its required fields taken out: the report says so, activation is refused
    broken = _without_fields(network.content)
    uploaded = await client.post(
        "/mandats/modeles",
        data={"structure_id": str(town.ccas), "kind": "mandat", "_csrf_token": csrf_token(client)},
        files={"file": ("notre-mandat.docx", broken, "application/octet-stream")},
    )
    assert "Modèle envoyé" in uploaded.text and "Champs manquants" in uploaded.text
    variant_id = re.search(r'action="/mandats/modeles/(\d+)"', uploaded.text)
    assert variant_id
    no_name = await post(client, f"/mandats/modeles/{variant_id.group(1)}", {"proofreader": ""})
    assert no_name.status_code == 400 and "Indiquez qui a relu le modèle." in no_name.text
    refused = await post(client, f"/mandats/modeles/{variant_id.group(1)}", {"proofreader": "Marie Relectrice"})
    assert refused.status_code == 400 and "ne passe pas les vérifications" in refused.text


def _without_fields(docx: bytes) -> bytes:
    """The same .docx with every template field ({{ … }}) emptied from its body."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(docx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "word/document.xml":
                data = re.sub(rb"\{\{[^}]*\}\}", b"", data)
            target.writestr(item, data)
    return out.getvalue()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


# ---------------------------------------------------------------- the API (personal tokens; the QR code's is public)
async def test_the_api_lists_and_reads_the_structures_mandates_and_verifies_a_code(
    client: httpx.AsyncClient, rt: Runtime
) -> None:
    town = await build(rt)
    await ready_aidant(client, town)
    resident_id = await new_resident(client, town)
    created = await post(client, "/mandats/nouveau", draft_form(town, resident_id, totp_code=fresh_code(town.aidant)))
    mandate_id = int(created.url.path.rsplit("/", 1)[1])
    client.cookies.clear()
    _, token = await accounts.create_api_token(rt, await accounts.actor_for_user(town.aidant.id), "logiciel")
    _, outsider_token = await accounts.create_api_token(rt, await accounts.actor_for_user(town.outsider.id), "autre")
    mine = {"Authorization": f"Bearer {token}"}

    drafts = await client.get("/api/v1/mandates?tab=drafts", headers=mine)
    assert drafts.status_code == 200
    assert drafts.json()["structure_id"] == town.ccas
    assert [row["id"] for row in drafts.json()["mandates"]] == [mandate_id]
    one = await client.get(f"/api/v1/mandates/{mandate_id}", headers=mine)
    assert one.status_code == 200
    body = one.json()
    assert body["status"] == "draft" and [s["code"] for s in body["scopes"]] == ["papiers", "social", "argent"]
    assert body["resident"]["last_name"] == RESIDENT_LAST

    theirs = await client.get(f"/api/v1/mandates/{mandate_id}", headers={"Authorization": f"Bearer {outsider_token}"})
    assert theirs.status_code == 404 and theirs.headers["content-type"] == "application/problem+json"
    other = await client.get(
        f"/api/v1/mandates?structure_id={town.ccas}", headers={"Authorization": f"Bearer {outsider_token}"}
    )
    assert other.status_code == 404
    assert (await client.get("/api/v1/mandates")).status_code == 401

    verified = await client.get(f"/api/v1/mandates/verify/{body['public_code']}")
    assert verified.status_code == 200
    assert verified.json()["status"] == "projet" and verified.json()["resident_initials"] == "A. D."
    assert RESIDENT_LAST not in verified.text and RESIDENT_FIRST not in verified.text
    unknown = await client.get("/api/v1/mandates/verify/code-inconnu-0000")
    assert unknown.status_code == 404 and unknown.json()["detail"] == "Ce code ne correspond à aucun mandat."


async def test_the_manager_withdraws_a_habilitation_and_the_aidant_can_no_longer_make_mandates(
    client: httpx.AsyncClient, rt: Runtime
) -> None:
    town = await build(rt)
    await ready_aidant(client, town)
    assert "Faire un mandat" in (await client.get("/mandats")).text
    await switch_to(client, town.manager)
    withdrawn = await post(
        client,
        "/mandats/habilitations",
        {"structure_id": str(town.ccas), "user_id": str(town.aidant.id), "action": "withdraw"},
    )
    assert "Habilitation retirée." in withdrawn.text and "Non habilité" in withdrawn.text
    unknown = await post(
        client, "/mandats/habilitations", {"structure_id": str(town.ccas), "user_id": "x", "action": "grant"}
    )
    assert unknown.status_code == 400
    await switch_to(client, town.aidant)
    listing = await client.get("/mandats")
    assert "ne vous a pas encore habilité" in listing.text and 'href="/mandats/nouveau"' not in listing.text
