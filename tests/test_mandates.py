"""Mandates: who may act (habilitation, charter, TOTP), the step-up, drafts and their choices, signatures and
scans, finalising through the real LibreOffice and the hub's seal, revocation, verification of a PDF byte for
byte, another structure's 404, reminders without personal data, expiry and the purge after retention."""

from __future__ import annotations

import dataclasses
import hashlib
import io
from datetime import timedelta
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import pyotp
import pytest
from PIL import Image, ImageDraw

from hub import accounts, jobs
from hub.accounts import Actor
from hub.documents import DocumentConverter, DocumentsUnavailable, find_soffice
from hub.errors import Conflict, Forbidden, Invalid, NotFound, TooManyRequests
from hub.mandates import due, service
from hub.mandates.documents import CHARTER_VERSION
from hub.mandates.schemas import MandateCreate, ResidentCreate
from hub.mandates.seal import HubSeal
from hub.mandates.tables import Mandate, MandateScope, Resident, Revocation
from hub.runtime import Runtime
from hub.tables import JournalEntry, User
from tests.conftest import Inbox, Person, make_person, make_structure

needs_libreoffice = pytest.mark.skipif(
    find_soffice() is None, reason="LibreOffice absent : lancez scripts/install-libreoffice (root)"
)
FIRST, LAST = "Awa", "Diallo-Traoré"


@dataclasses.dataclass
class Desk:
    a: int
    b: int
    aidant: Actor  # habilitated in A, charter accepted, TOTP enrolled
    aidant_person: Person
    manager: Actor  # A's manager
    other: Actor  # an aidant of B, habilitated there
    other_person: Person
    resident: int  # A's


async def _actor(person: Person) -> Actor:
    return await accounts.actor_for_user(person.id)


def code_now(rt: Runtime, person: Person) -> str:
    """The code the aidant's phone shows after half a minute more: a step never used before."""
    rt.advance_clock(timedelta(seconds=31))
    assert person.totp_secret
    return pyotp.TOTP(person.totp_secret).at(rt.now().timestamp())


async def _ready(rt: Runtime, manager: Actor, aidant: Actor, structure: int) -> None:
    await service.habilitate(rt, manager, structure, aidant.user_id)
    await service.accept_charter(rt, aidant, CHARTER_VERSION)


@pytest.fixture
async def desk(rt: Runtime) -> Desk:
    a = await make_structure(
        "France Services de Montclair", "RFS", address="2 place de la Mairie", phone="02 38 00 00 01"
    )
    b = await make_structure("CCAS de Montclair", "CCAS")
    aidant = await make_person(rt, "julien.morel@fs.example.fr", {a: ["aidant"]})
    manager = await make_person(rt, "nadia.benali@fs.example.fr", {a: ["manager"]})
    other = await make_person(rt, "olga.autre@ccas.example.fr", {b: ["aidant", "manager"]})
    desk = Desk(a, b, await _actor(aidant), aidant, await _actor(manager), await _actor(other), other, 0)
    await _ready(rt, desk.manager, desk.aidant, a)
    await _ready(rt, desk.other, desk.other, b)
    desk.resident = await service.create_resident(
        rt, desk.aidant, ResidentCreate(structure_id=a, first_name=FIRST, last_name=LAST, phone="06 39 98 12 34")
    )
    return desk


def draft_for(desk: Desk, code: str, **changes: Any) -> MandateCreate:
    values: dict[str, Any] = {
        "structure_id": desk.a,
        "resident_id": desk.resident,
        "scopes": ("social", "logement", "argent"),
        "duration_days": 365,
        "no_legal_protection": True,
        "totp_code": code,
    }
    return MandateCreate(**(values | changes))


def signature(seed: int = 1, blank: bool = False, size: tuple[int, int] = (400, 150)) -> bytes:
    image = Image.new("RGBA", size, (255, 255, 255, 0))
    if not blank:
        ImageDraw.Draw(image).line([(20, 100), (120, 30 + seed), (220, 110), (380, 40)], fill=(0, 0, 80, 255), width=5)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


async def _draft(rt: Runtime, desk: Desk, **changes: Any) -> int:
    return await service.create_draft(rt, desk.aidant, draft_for(desk, code_now(rt, desk.aidant_person), **changes))


async def _signed(rt: Runtime, desk: Desk, **changes: Any) -> int:
    mandate_id = await _draft(rt, desk, **changes)
    await service.add_signatures(rt, desk.aidant, mandate_id, signature(1), signature(2))
    return mandate_id


async def _journal_text() -> str:
    return " ".join(f"{r['action']} {r['details']}" for r in await JournalEntry.select())


# ---------------------------------------------------------------- who may act
async def test_habilitation_charter_and_totp_are_each_required(rt: Runtime, desk: Desk) -> None:
    newcomer = await make_person(rt, "nouvel.aidant@fs.example.fr", {desk.a: ["aidant"]})
    actor = await _actor(newcomer)
    context = await service.aidant_context(rt, actor)
    assert not context.ok and len(context.reasons) == 2  # not habilitated, no charter (TOTP is enrolled)
    with pytest.raises(Forbidden, match="habilité"):
        await service.create_resident(rt, actor, ResidentCreate(structure_id=desk.a, first_name="A", last_name="B"))
    with pytest.raises(Forbidden, match="référent"):  # an aidant does not habilitate
        await service.habilitate(rt, actor, desk.a, actor.user_id)
    await service.habilitate(rt, desk.manager, desk.a, actor.user_id)
    with pytest.raises(Forbidden, match="charte"):
        await service.create_draft(rt, actor, draft_for(desk, code_now(rt, newcomer)))
    with pytest.raises(Conflict):  # an outdated version is not the charter in force
        await service.accept_charter(rt, actor, "2001-01")
    await service.accept_charter(rt, actor, CHARTER_VERSION)
    assert await service.charter_status(rt, actor) == (True, CHARTER_VERSION)
    assert [sid for sid, _ in (await service.aidant_context(rt, actor)).structures] == [desk.a]
    # without TOTP enrolled, nothing either
    await User.update({User.totp_enabled: False}).where(User.id == newcomer.id)
    with pytest.raises(Forbidden, match="double authentification"):
        await service.find_residents(rt, actor, desk.a, "")
    # a withdrawn habilitation stops the aidant at once
    await User.update({User.totp_enabled: True}).where(User.id == newcomer.id)
    await service.withdraw_habilitation(rt, desk.manager, desk.a, actor.user_id)
    with pytest.raises(Forbidden, match="habilité"):
        await service.find_residents(rt, actor, desk.a, "")
    people = await service.list_habilitations(rt, desk.manager, desk.a)
    assert {p["user_id"]: p["habilitated"] for p in people}[desk.aidant.user_id] is True
    assert {p["user_id"]: p["habilitated"] for p in people}[actor.user_id] is False


async def test_the_step_up_needs_a_fresh_code_never_replayed(rt: Runtime, desk: Desk) -> None:
    with pytest.raises(Invalid) as missing:
        await service.create_draft(rt, desk.aidant, draft_for(desk, ""))
    assert "totp_code" in missing.value.fields
    with pytest.raises(Invalid):
        await service.create_draft(rt, desk.aidant, draft_for(desk, "000000"))
    code = code_now(rt, desk.aidant_person)
    first = await service.create_draft(rt, desk.aidant, draft_for(desk, code))
    with pytest.raises(Invalid, match="déjà utilisé"):  # the same code again: a replay
        await service.create_draft(rt, desk.aidant, draft_for(desk, code))
    stale = pyotp.TOTP(desk.aidant_person.totp_secret or "").at(rt.now().timestamp())
    rt.advance_clock(timedelta(minutes=3))  # the step-up expired
    with pytest.raises(Invalid):
        await service.create_draft(rt, desk.aidant, draft_for(desk, stale))
    assert await Mandate.count() == 1 and (await service.get_mandate(rt, desk.aidant, first)).status == "draft"
    # a refused act does not spend the code: a bad choice with a good code leaves it usable
    good = code_now(rt, desk.aidant_person)
    with pytest.raises(Invalid):
        await service.create_draft(rt, desk.aidant, draft_for(desk, good, duration_days=90))
    assert await service.create_draft(rt, desk.aidant, draft_for(desk, good))


async def test_wrong_step_up_codes_are_throttled(rt: Runtime, desk: Desk) -> None:
    for _ in range(rt.settings.login_max_failures):
        with pytest.raises(Invalid):
            await service.create_draft(rt, desk.aidant, draft_for(desk, "123456"))
    with pytest.raises(TooManyRequests):  # even the right code waits now
        await service.create_draft(rt, desk.aidant, draft_for(desk, code_now(rt, desk.aidant_person)))
    rt.advance_clock(timedelta(minutes=rt.settings.login_window_minutes + 1))
    assert await service.create_draft(rt, desk.aidant, draft_for(desk, code_now(rt, desk.aidant_person)))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"scopes": ()}, "scopes"),
        ({"scopes": ("social", "astrologie")}, "scopes"),
        ({"duration_days": 90}, "duration_days"),
        ({"no_legal_protection": False}, "no_legal_protection"),
    ],
)
async def test_bad_choices_are_refused_with_their_field(rt: Runtime, desk: Desk, changes, field) -> None:
    with pytest.raises(Invalid) as refused:
        await service.create_draft(rt, desk.aidant, draft_for(desk, code_now(rt, desk.aidant_person), **changes))
    assert field in refused.value.fields
    assert await Mandate.count() == 0


async def test_a_draft_reads_back_with_its_scopes_and_no_name_in_the_journal(rt: Runtime, desk: Desk) -> None:
    mandate_id = await _draft(rt, desk, scopes=("argent", "social"))
    view = await service.get_mandate(rt, desk.aidant, mandate_id)
    assert [s.code for s in view.scopes] == ["social", "argent"]  # the national list's order
    assert view.status == "draft" and view.number.startswith("M-") and "sign" in view.actions
    assert view.resident.last_name == LAST and view.ends_on - view.starts_on == timedelta(days=364)
    assert next(s for s in view.scopes if s.code == "argent").warning  # surendettement
    journal = await _journal_text()
    assert "mandate_drafted" in journal and FIRST not in journal and LAST not in journal
    rows = await service.list_mandates(rt, desk.aidant, desk.a, "drafts")
    assert [r.id for r in rows] == [mandate_id]


# ---------------------------------------------------------------- signatures and scans
@pytest.mark.parametrize(
    ("resident", "reason"),
    [
        (signature(blank=True), "vide"),  # all transparent: nothing drawn
        (b"GIF89a" + b"\x00" * 100, "pas une image"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "illisible"),
        (signature(size=(10, 10)), "taille impossible"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 600_000, "trop lourde"),
        (b"", "manque"),
    ],
)
async def test_a_bad_signature_image_is_refused(rt: Runtime, desk: Desk, resident: bytes, reason: str) -> None:
    mandate_id = await _draft(rt, desk)
    with pytest.raises(Invalid) as refused:
        await service.add_signatures(rt, desk.aidant, mandate_id, resident, signature(2))
    assert reason in refused.value.fields["resident_signature"]
    assert (await service.get_mandate(rt, desk.aidant, mandate_id)).status == "draft"


async def test_a_white_image_is_a_blank_signature(rt: Runtime, desk: Desk) -> None:
    mandate_id = await _draft(rt, desk)
    white = io.BytesIO()
    Image.new("RGB", (300, 100), (255, 255, 255)).save(white, format="JPEG")
    with pytest.raises(Invalid) as refused:
        await service.add_signatures(rt, desk.aidant, mandate_id, signature(1), white.getvalue())
    assert "vide" in refused.value.fields["aidant_signature"]


def scanned_pdf() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (210, 297), "white").save(buffer, "PDF")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (b"", "Choisissez le scan du mandat signé."),
        (b"bonjour, ceci est un texte", "Envoyez un PDF, une image PNG ou JPEG."),
        (b"MZ\x90\x00\x03\x00" + b"\x00" * 500, "Envoyez un PDF, une image PNG ou JPEG."),  # a program renamed .pdf
        (b"%PDF-1.7\n" + b"x" * 5000, "Le PDF est abîmé ou incomplet : scannez à nouveau."),
        (b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "Le PDF est abîmé ou incomplet : scannez à nouveau."),
        (b"\xff\xd8\xff" + b"\x00" * 30, "Image illisible : scannez à nouveau."),
        (b"%PDF-" + b"x" * 10_000_000, "Le scan dépasse 10 Mo : scannez en qualité moindre."),
    ],
)
async def test_a_scan_that_is_not_a_pdf_or_an_image_is_refused(
    rt: Runtime, desk: Desk, bad: bytes, reason: str
) -> None:
    mandate_id = await _draft(rt, desk)
    with pytest.raises(Invalid) as refused:
        await service.attach_scan(rt, desk.aidant, mandate_id, bad, "scan.pdf")
    assert refused.value.fields == {"file": reason}
    assert (await service.get_mandate(rt, desk.aidant, mandate_id)).status == "draft"


async def test_a_scan_is_a_pdf_or_an_image_by_its_content_and_is_hashed(rt: Runtime, desk: Desk) -> None:
    mandate_id = await _draft(rt, desk)
    photo = io.BytesIO()
    Image.new("RGB", (210, 297), "white").save(photo, "JPEG")
    await service.attach_scan(rt, desk.aidant, mandate_id, photo.getvalue(), "scan.pdf")
    assert (await service.scan_file(rt, desk.aidant, mandate_id))[1] == "image/jpeg"  # the content, not the name
    scan = scanned_pdf()
    digest = await service.attach_scan(rt, desk.aidant, mandate_id, scan, "scan.pdf")
    view = await service.get_mandate(rt, desk.aidant, mandate_id)
    assert digest == hashlib.sha256(scan).hexdigest() == view.scan_sha256
    assert view.status == "signed" and view.signing_mode == "paper" and "finalise" in view.actions


# ---------------------------------------------------------------- another structure
async def test_an_aidant_of_another_structure_sees_nothing(rt: Runtime, desk: Desk) -> None:
    mandate_id = await _signed(rt, desk)
    other = desk.other
    for attempt in (
        service.get_mandate(rt, other, mandate_id),
        service.add_signatures(rt, other, mandate_id, signature(1), signature(2)),
        service.finalise(rt, other, mandate_id),
        service.revoke(rt, other, mandate_id, None, "resident"),
        service.draft_document(rt, other, mandate_id, "docx"),
        service.sealed_pdf(rt, other, mandate_id),
        service.start_renewal(rt, other, mandate_id, code_now(rt, desk.other_person)),
        service.list_mandates(rt, other, desk.a, "active"),
        service.find_residents(rt, other, desk.a, FIRST),
        service.get_resident(rt, other, desk.a, desk.resident),
        service.list_habilitations(rt, other, desk.a),
    ):
        with pytest.raises(NotFound):
            await attempt
    # a resident of A cannot be used from B either
    with pytest.raises(NotFound):
        await service.create_draft(rt, other, draft_for(desk, code_now(rt, desk.other_person), structure_id=desk.b))
    assert await service.list_mandates(rt, other, desk.b, "drafts") == []


# ---------------------------------------------------------------- finalising, for real
@needs_libreoffice
async def test_finalise_seals_a_pdf_that_verifies_then_revocation_and_tampering_are_caught(
    rt: Runtime, desk: Desk, tmp_path: Path
) -> None:
    mandate_id = await _signed(rt, desk)
    digest = await service.finalise(rt, desk.aidant, mandate_id)
    view = await service.get_mandate(rt, desk.aidant, mandate_id)
    assert view.status == "active" and view.sealed_sha256 == digest and view.fingerprint
    assert "mandat.pdf" in view.documents and "revoke" in view.actions
    pdf = await service.sealed_pdf(rt, desk.aidant, mandate_id)
    assert hashlib.sha256(pdf).hexdigest() == digest
    check = rt.state(HubSeal).check(pdf)  # pyHanko's validation API
    assert check.ok and check.intact and check.ours, check.reason_fr
    (tmp_path / "mandat.pdf").write_bytes(pdf)

    found = await service.verify_file(rt, pdf)
    assert found.ok and found.status == "valide" and found.number == view.number
    public = await service.public_verification(rt, view.public_code)
    assert public is not None and public.status == "valide" and public.resident_initials == "A. D."
    assert [s.status for s in public.scopes] == ["valide"] * 3
    assert FIRST not in repr(public) and LAST not in repr(public)
    assert await service.public_verification(rt, "x" * 24) is None

    # one byte changed anywhere: altered
    for position in (len(pdf) // 3, len(pdf) - 40):
        tampered = bytearray(pdf)
        tampered[position] ^= 0x01
        result = await service.verify_file(rt, bytes(tampered))
        assert not result.ok and result.status == "altéré", (position, result)
    appended = await service.verify_file(rt, pdf + b"\n% ajout\n")
    assert appended.status == "altéré"

    # one scope revoked: still valid for the others, the attestation is sealed too
    revocation_id = await service.revoke(rt, desk.aidant, mandate_id, ("argent",), "resident")
    attestation = await service.revocation_pdf(rt, desk.aidant, revocation_id)
    assert rt.state(HubSeal).check(attestation).ok
    partly = await service.verify_file(rt, pdf)
    assert partly.status == "valide" and {s.code: s.status for s in partly.scopes}["argent"] == "révoqué"
    with pytest.raises(Invalid):  # an already revoked scope
        await service.revoke(rt, desk.aidant, mandate_id, ("argent",), "resident")

    # the rest revoked: the same PDF is now "révoqué", and the public page says so at once
    await service.revoke(rt, desk.aidant, mandate_id, None, "resident")
    revoked = await service.verify_file(rt, pdf)
    assert not revoked.ok and revoked.status == "révoqué" and "révoqué" in revoked.reason_fr
    public = await service.public_verification(rt, view.public_code)
    assert public is not None and public.status == "révoqué"
    assert await Revocation.count().where(Revocation.mandate == mandate_id) == 2
    journal = await _journal_text()
    assert "mandate_finalised" in journal and "mandate_revoked" in journal
    assert FIRST not in journal and LAST not in journal

    # the final DOCX renders again from the exact template it was made with
    docx = await service.rendered_docx(rt, desk.aidant, mandate_id)
    assert docx.startswith(b"PK")

    # a PDF the hub never sealed is unknown; a sealed one deleted from the records too
    await Mandate.update({Mandate.sealed_sha256: ""}).where(Mandate.id == mandate_id)
    unknown = await service.verify_file(rt, pdf)
    assert unknown.status == "inconnu"


@needs_libreoffice
async def test_a_new_mandate_for_the_same_scope_revokes_the_old_one_and_says_so_first(rt: Runtime, desk: Desk) -> None:
    old = await _signed(rt, desk, scopes=("social", "logement"))
    await service.finalise(rt, desk.aidant, old)
    assert await service.replaced_scopes(rt, desk.aidant, desk.a, desk.resident, ("logement", "papiers")) != []
    replaced = await service.replaced_scopes(rt, desk.aidant, desk.a, desk.resident, ("logement", "papiers"))
    assert [(r.mandate_id, r.scope) for r in replaced] == [(old, "logement")]
    new = await _signed(rt, desk, scopes=("logement", "papiers"))
    assert (await service.get_mandate(rt, desk.aidant, old)).status == "active"  # not before finalisation
    await service.finalise(rt, desk.aidant, new)
    scopes = {s.code: s for s in (await service.get_mandate(rt, desk.aidant, old)).scopes}
    assert scopes["logement"].status == "revoked" and scopes["logement"].replaced_by == new
    assert scopes["social"].status == "active"
    # the renewal keeps the scopes still valid, and revokes them when finalised: the old mandate ends
    renewal = await service.start_renewal(rt, desk.aidant, old, code_now(rt, desk.aidant_person))
    assert [s.code for s in (await service.get_mandate(rt, desk.aidant, renewal)).scopes] == ["social"]
    await service.add_signatures(rt, desk.aidant, renewal, signature(3), signature(4))
    await service.finalise(rt, desk.aidant, renewal)
    assert (await service.get_mandate(rt, desk.aidant, old)).status == "revoked"
    with pytest.raises(Conflict):  # finalised once
        await service.finalise(rt, desk.aidant, renewal)


@needs_libreoffice
async def test_draft_documents_are_marked_and_not_sealed(rt: Runtime, desk: Desk) -> None:
    mandate_id = await _draft(rt, desk)
    pdf = await service.draft_document(rt, desk.aidant, mandate_id, "pdf")
    assert pdf.startswith(b"%PDF") and not rt.state(HubSeal).check(pdf).sealed
    assert (await service.verify_file(rt, pdf)).status == "altéré"  # no seal: not a mandate


async def test_nothing_is_half_done_when_libreoffice_is_missing(rt: Runtime, desk: Desk, tmp_path: Path) -> None:
    mandate_id = await _signed(rt, desk)
    rt.documents = DocumentConverter(tmp_path / "documents", soffice=tmp_path / "soffice.bin")  # not installed
    before = await JournalEntry.count()
    with pytest.raises(DocumentsUnavailable, match="LibreOffice"):
        await service.finalise(rt, desk.aidant, mandate_id)
    row = await Mandate.select().where(Mandate.id == mandate_id).first()
    assert row is not None and row["status"] == "signed" and row["sealed_pdf"] is None and not row["sealed_sha256"]
    assert row["finalised_at"] is None and await JournalEntry.count() == before
    with pytest.raises(DocumentsUnavailable):
        await service.draft_document(rt, desk.aidant, mandate_id, "pdf")
    # an active mandate whose revocation cannot be sealed stays active, every scope with it
    await Mandate.update({Mandate.status: "active"}).where(Mandate.id == mandate_id)
    with pytest.raises(DocumentsUnavailable):
        await service.revoke(rt, desk.aidant, mandate_id, None, "resident")
    assert await Revocation.count() == 0
    assert await MandateScope.count().where(MandateScope.status == "revoked") == 0
    assert (await Mandate.select(Mandate.status).where(Mandate.id == mandate_id).first()) == {"status": "active"}


# ---------------------------------------------------------------- due work
async def _active(rt: Runtime, desk: Desk, duration: int = 31) -> int:
    """A finished mandate without its documents (as the demo leaves one without LibreOffice)."""
    mandate_id = await _signed(rt, desk, duration_days=duration)
    await Mandate.update({Mandate.status: "active", Mandate.finalised_at: rt.now()}).where(Mandate.id == mandate_id)
    return mandate_id


async def test_expiry_reminders_go_to_the_aidants_without_the_residents_name(
    rt: Runtime, desk: Desk, inbox: Inbox
) -> None:
    mandate_id = await _active(rt, desk, duration=31)
    assert await due.remind(rt) == 1 and await due.remind(rt) == 0  # once
    await jobs.tick(rt)
    messages = inbox.to(desk.aidant.email)
    assert len(messages) == 1
    subject = str(make_header(decode_header(messages[0]["Subject"])))
    body = messages[0].get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert subject == "Un mandat arrive à échéance"
    assert f"/mandats/{mandate_id}" in body and FIRST not in body and LAST not in body
    assert not inbox.to(desk.other.email)  # another structure's aidant hears nothing
    view = await service.get_mandate(rt, desk.aidant, mandate_id)
    assert view.expiring and any(e.action == "remind" for e in view.events)
    letter = await service.expiry_letter(rt, desk.aidant, mandate_id)  # the FALC letter for the resident
    assert letter.startswith(b"PK") and "lettre.docx" not in view.documents  # no sealed PDF: finalised by hand here
    with pytest.raises(NotFound):
        await service.expiry_letter(rt, desk.other, mandate_id)


async def test_expiry_then_purge_after_the_retention(rt: Runtime, desk: Desk) -> None:
    mandate_id = await _active(rt, desk, duration=31)
    lonely = await service.create_resident(
        rt, desk.aidant, ResidentCreate(structure_id=desk.a, first_name="Sans", last_name="Mandat")
    )
    rt.advance_clock(timedelta(days=32))
    assert (await service.get_mandate(rt, desk.aidant, mandate_id)).status == "expired"  # before the jobs loop
    assert await due.expire(rt) == 1 and await due.expire(rt) == 0
    assert (await Mandate.select(Mandate.status).where(Mandate.id == mandate_id).first()) == {"status": "expired"}
    with pytest.raises(Conflict):
        await service.revoke(rt, desk.aidant, mandate_id, None, "resident")
    rt.advance_clock(timedelta(days=365 * 5))
    assert await due.purge(rt) == 0  # 6 years after its end, not 5
    rt.advance_clock(timedelta(days=400))
    assert await due.purge(rt) == 3  # the mandate, its resident and the resident who never had one
    assert await Mandate.count() == 0 and await Resident.count() == 0
    assert await Resident.count().where(Resident.id == lonely) == 0
    journal = await _journal_text()
    assert "mandates_purged" in journal and "residents_purged" in journal
    assert FIRST not in journal and LAST not in journal


async def test_a_merged_structure_s_mandates_continue_in_the_kept_one(rt: Runtime, desk: Desk) -> None:
    from network import duplicates

    mandate_id = await _draft(rt, desk)
    coordinator = await _actor(await make_person(rt, "coordination@reseau.example.fr", coordinator=True))
    outcome = await duplicates.merge(rt, coordinator, desk.b, desk.a)  # A is merged into B
    assert outcome is not None
    view = await service.get_mandate(rt, desk.other, mandate_id)  # B's aidant now sees it
    assert view.structure_id == desk.b and view.resident.last_name == LAST
    aidant = await _actor(desk.aidant_person)  # A's aidant is a member of B now, still habilitated
    assert [sid for sid, _ in (await service.aidant_context(rt, aidant)).structures] == [desk.b]


async def test_residents_are_found_by_name_within_the_structure_only(rt: Runtime, desk: Desk) -> None:
    found = await service.find_residents(rt, desk.aidant, desk.a, "awa DIALLO")
    assert [r.id for r in found] == [desk.resident]
    assert await service.find_residents(rt, desk.aidant, desk.a, "Martin") == []
    assert await service.find_residents(rt, desk.other, desk.b, "Diallo") == []  # B has its own residents
    with pytest.raises(Invalid) as refused:
        await service.create_resident(
            rt, desk.aidant, ResidentCreate(structure_id=desk.a, first_name=" ", last_name="X", email="pas-une-adresse")
        )
    assert {"first_name", "email"} <= set(refused.value.fields)


async def test_a_revocation_note_is_short_and_kept_for_the_structure(rt: Runtime, desk: Desk) -> None:
    mandate_id = await _active(rt, desk)
    with pytest.raises(Invalid) as refused:
        await service.revoke(rt, desk.aidant, mandate_id, None, "x" * 201)
    assert "reason" in refused.value.fields
    with pytest.raises(Invalid):  # a scope the mandate does not hold
        await service.revoke(rt, desk.aidant, mandate_id, ("justice",), "")
    assert await Revocation.count() == 0


async def test_a_structure_s_variant_is_active_only_when_checked_and_proofread(rt: Runtime, desk: Desk) -> None:
    from hub.mandates import documents

    official = documents.current_template("mandat")
    with pytest.raises(Forbidden):  # the aidant does not manage the structure's templates
        await service.upload_variant(rt, desk.aidant, desk.a, "mandat", official.data, "notre-mandat.docx")
    with pytest.raises(Invalid):
        await service.upload_variant(rt, desk.manager, desk.a, "mandat", b"pas un docx", "notre-mandat.docx")
    lacking = await service.upload_variant(
        rt, desk.manager, desk.a, "mandat", documents.render_charter("Julien Morel"), "charte.docx"
    )
    with pytest.raises(Conflict):  # no mandate field in a charter: never activated
        await service.activate_variant(rt, desk.manager, lacking, "Claire Relectrice")
    good = await service.upload_variant(rt, desk.manager, desk.a, "mandat", official.data, "notre-mandat.docx")
    with pytest.raises(Invalid):  # who proofread it is required
        await service.activate_variant(rt, desk.manager, good, " ")
    await service.activate_variant(rt, desk.manager, good, "Claire Relectrice")
    listed = {v["id"]: v for v in await service.list_variants(rt, desk.manager, desk.a)}
    assert listed[good]["active"] and listed[good]["proofread_by"] == "Claire Relectrice"
    assert not listed[lacking]["active"] and listed[lacking]["falc_report"]
    with pytest.raises(NotFound):  # another structure's manager sees none of it
        await service.list_variants(rt, desk.other, desk.a)
    mandate_id = await _draft(rt, desk)
    row = (
        await Mandate.select(Mandate.template_version, Mandate.template_sha256).where(Mandate.id == mandate_id).first()
    )
    assert row == {"template_version": f"variant-{good}", "template_sha256": hashlib.sha256(official.data).hexdigest()}
    assert (await service.draft_document(rt, desk.aidant, mandate_id, "docx")).startswith(b"PK")


async def test_a_draft_given_up_is_never_valid(rt: Runtime, desk: Desk) -> None:
    mandate_id = await _signed(rt, desk)
    await service.cancel_draft(rt, desk.aidant, mandate_id)
    view = await service.get_mandate(rt, desk.aidant, mandate_id)
    assert view.status == "cancelled" and view.actions == []
    for attempt in (
        service.finalise(rt, desk.aidant, mandate_id),
        service.add_signatures(rt, desk.aidant, mandate_id, signature(1), signature(2)),
        service.cancel_draft(rt, desk.aidant, mandate_id),
    ):
        with pytest.raises(Conflict):
            await attempt
    public = await service.public_verification(rt, view.public_code)
    assert public is not None and public.status == "projet"
