"""Attachments of a referral: PDF, PNG or JPEG of 5 MB at most, their type found from their content; sent with the
referral (the form comes back with its values when a file is refused, and nothing is written) or added later, on
the page and through the API; downloaded by the two structures only, as attachments the browser does not sniff;
purged 6 months after the referral ended, and with its anonymisation."""

from __future__ import annotations

import io
from datetime import timedelta

import httpx
import pytest
from PIL import Image

from hub import accounts, jobs
from hub.errors import Invalid
from hub.runtime import Runtime
from hub.tables import JournalEntry
from referrals import attachments, due, service
from referrals.schemas import Transition
from referrals.tables import Attachment, Referral, ReferralEvent
from tests.conftest import make_service
from tests.test_referral_pages import RESIDENT, build, csrf_token, send_directly, send_form, sign_in, switch_to


def pdf_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 80), "white").save(buffer, "PDF")
    return buffer.getvalue()


def image_bytes(kind: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, kind)
    return buffer.getvalue()


PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 2000  # a Windows program


async def post_files(
    client: httpx.AsyncClient, path: str, form: dict[str, str | list[str]], files: list[tuple[str, bytes, str]]
) -> httpx.Response:
    """A multipart form as a browser sends it: fields, the CSRF token, and the files of the input."""
    return await client.post(
        path,
        data={**form, "_csrf_token": csrf_token(client)},
        files=[("attachments", (name, content, media_type)) for name, content, media_type in files],
    )


def test_the_type_comes_from_the_content() -> None:
    """hub.uploads decides the type (tests/test_uploads.py); the check keeps the type and names the file after it."""
    checked = attachments.check(
        [attachments.Upload("photo.pdf", image_bytes("PNG")), attachments.Upload("scan", pdf_bytes())]
    )
    assert [(c.filename, c.media_type) for c in checked] == [
        ("photo.png", "image/png"),
        ("scan.pdf", "application/pdf"),
    ]
    with pytest.raises(Invalid) as refused:
        attachments.check([attachments.Upload("ok.jpg", image_bytes("JPEG")), attachments.Upload("a.pdf", PROGRAM)])
    assert refused.value.fields == {
        "attachments": "« a.pdf » n'est pas un PDF, ni une image PNG ou JPEG (son contenu a été vérifié, pas seulement "
        "son nom) : joignez un de ces formats."
    }
    assert attachments.clean_filename("../../etc/pass<wd>.PDF", "application/pdf") == "pass wd.pdf"
    assert attachments.clean_filename("photo.pdf", "image/png") == "photo.png"  # the real type's extension
    assert attachments.clean_filename("\x00..", "image/jpeg") == "piece-jointe.jpg"
    assert attachments.clean_filename("é" * 300 + ".png", "image/png") == "é" * 100 + ".png"


async def test_files_sent_with_the_referral_are_read_by_the_two_structures_only(
    client: httpx.AsyncClient, rt: Runtime
) -> None:
    net = await build(rt)
    await sign_in(client, net.prescriber)
    await client.get(f"/orientations/nouvelle/{net.service_id}")
    pdf, png = pdf_bytes(), image_bytes("PNG")
    sent = await post_files(
        client,
        f"/orientations/nouvelle/{net.service_id}",
        send_form(net.service_id),
        [("../Attestation CAF <2026>.pdf", pdf, "application/pdf"), ("capture.png", png, "image/png")],
    )
    assert sent.history and sent.history[0].status_code == 302, sent.text
    [referral] = await Referral.select(Referral.id)
    referral_id = referral["id"]
    files = await Attachment.select().where(Attachment.referral == referral_id).order_by(Attachment.id)
    assert [(f["filename"], f["media_type"], f["size"]) for f in files] == [
        ("Attestation CAF 2026.pdf", "application/pdf", len(pdf)),
        ("capture.png", "image/png", len(png)),
    ]
    assert "Attestation CAF 2026.pdf" in sent.text and "capture.png" in sent.text
    first, second = files[0]["id"], files[1]["id"]
    # never by its name in a URL: by its number, under the referral's
    assert f'href="/orientations/{referral_id}/pieces/{first}"' in sent.text

    for person in (net.prescriber, net.receiver):
        await switch_to(client, person)
        download = await client.get(f"/orientations/{referral_id}/pieces/{first}")
        assert download.status_code == 200 and download.content == pdf
        assert download.headers["content-type"] == "application/pdf"
        assert download.headers["content-disposition"].startswith('attachment; filename="Attestation CAF 2026.pdf"')
        assert download.headers["x-content-type-options"] == "nosniff"
        assert "no-store" in download.headers["cache-control"]
        image = await client.get(f"/orientations/{referral_id}/pieces/{second}")
        assert image.content == png and image.headers["content-type"] == "image/png"

    # a third structure: 404, as if nothing were there; and a file is reached only under its own referral
    other = await send_directly(rt, net)
    await switch_to(client, net.outsider)
    assert (await client.get(f"/orientations/{referral_id}/pieces/{first}")).status_code == 404
    await client.get("/orientations")
    refused = await post_files(client, f"/orientations/{referral_id}/pieces", {}, [("a.png", png, "image/png")])
    assert refused.status_code == 404
    assert await Attachment.count().where(Attachment.referral == referral_id) == 2
    await switch_to(client, net.prescriber)
    assert (await client.get(f"/orientations/{other}/pieces/{first}")).status_code == 404
    assert (await client.get(f"/orientations/{referral_id}/pieces/999999")).status_code == 404


async def test_a_disguised_program_is_refused_the_form_keeps_its_values_and_nothing_is_written(
    client: httpx.AsyncClient, rt: Runtime
) -> None:
    net = await build(rt)
    await sign_in(client, net.prescriber)
    await client.get(f"/orientations/nouvelle/{net.service_id}")
    refused = await post_files(
        client,
        f"/orientations/nouvelle/{net.service_id}",
        send_form(net.service_id, note="Rappeler après 17 h"),
        [("attestation.pdf", PROGRAM, "application/pdf")],
    )
    assert refused.status_code == 400
    assert "« attestation.pdf » n&#39;est pas un PDF, ni une image PNG ou JPEG" in refused.text
    assert 'id="attachments-error"' in refused.text and 'aria-invalid="true"' in refused.text
    assert f'value="{RESIDENT}"' in refused.text and "Rappeler après 17 h" in refused.text  # the values stay
    assert await Referral.count() == 0 and await Attachment.count() == 0


async def test_a_file_over_5_mb_is_refused_with_the_other_fields_named_too(
    client: httpx.AsyncClient, rt: Runtime
) -> None:
    net = await build(rt)
    await sign_in(client, net.prescriber)
    await client.get(f"/orientations/nouvelle/{net.service_id}")
    heavy = pdf_bytes() + b"%" * (attachments.MAX_BYTES + 10)
    refused = await post_files(
        client,
        f"/orientations/nouvelle/{net.service_id}",
        send_form(net.service_id, resident_phone="06 12 34"),
        [("scan.pdf", heavy, "application/pdf")],
    )
    assert refused.status_code == 400
    assert "« scan.pdf » pèse plus de 5 Mo : joignez un fichier de 5 Mo au plus." in refused.text
    assert "Numéro de téléphone incomplet ou invalide" in refused.text  # every field at fault at once
    assert 'value="06 12 34"' in refused.text and "Déclarer ses ressources trimestrielles" in refused.text
    assert await Referral.count() == 0 and await Attachment.count() == 0

    # the same form without the file's fault but with another: the page asks to choose the files again
    again = await post_files(
        client,
        f"/orientations/nouvelle/{net.service_id}",
        send_form(net.service_id, consent_confirmed=""),
        [("scan.pdf", pdf_bytes(), "application/pdf")],
    )
    assert again.status_code == 400 and "Choisissez de nouveau vos fichiers" in again.text
    assert await Referral.count() == 0 and await Attachment.count() == 0


async def test_either_structure_adds_files_on_the_referral_page_until_it_ends(
    client: httpx.AsyncClient, rt: Runtime
) -> None:
    net = await build(rt)
    referral_id = await send_directly(rt, net)
    await sign_in(client, net.receiver)
    page = await client.get(f"/orientations/{referral_id}")
    assert "Aucune pièce jointe." in page.text and 'enctype="multipart/form-data"' in page.text
    added = await post_files(
        client, f"/orientations/{referral_id}/pieces", {}, [("photo.jpg", image_bytes("JPEG"), "")]
    )
    assert added.history and "Pièce jointe ajoutée." in added.text and "photo.jpg" in added.text
    assert "ajoutée le" in added.text and "par le service qui reçoit" in added.text
    bad = await post_files(client, f"/orientations/{referral_id}/pieces", {}, [("x.png", PROGRAM, "image/png")])
    assert bad.status_code == 400 and 'id="attach-attachments-error"' in bad.text
    nothing = await post_files(client, f"/orientations/{referral_id}/pieces", {}, [])
    assert nothing.status_code == 400 and "Choisissez au moins un fichier." in nothing.text
    too_many = [(f"p{n}.png", image_bytes("PNG"), "image/png") for n in range(attachments.MAX_PER_UPLOAD + 1)]
    assert (await post_files(client, f"/orientations/{referral_id}/pieces", {}, too_many)).status_code == 400
    assert await Attachment.count().where(Attachment.referral == referral_id) == 1
    [event] = await ReferralEvent.select().where(
        (ReferralEvent.referral == referral_id) & (ReferralEvent.action == "attach")
    )
    assert event["details"] == '{"count": 1}' or event["details"] == {"count": 1}
    [act] = await JournalEntry.select().where(JournalEntry.action == "referral_attach")
    assert act["object_id"] == str(referral_id) and "photo" not in str(act)  # no file name in the journal

    await service.transition(
        rt, await accounts.actor_for_user(net.receiver.id), referral_id, Transition(action="refuse", reason="full")
    )
    ended = await client.get(f"/orientations/{referral_id}")
    assert "Joindre des fichiers" not in ended.text and "photo.jpg" in ended.text
    late = await post_files(client, f"/orientations/{referral_id}/pieces", {}, [("p.png", image_bytes("PNG"), "")])
    assert "on n&#39;y joint plus de fichier" in late.text
    assert await Attachment.count().where(Attachment.referral == referral_id) == 1


async def test_the_api_attaches_and_serves_files_with_problem_json_errors(
    client: httpx.AsyncClient, rt: Runtime
) -> None:
    net = await build(rt)
    referral_id = await send_directly(rt, net)
    bearers = {}
    for name, person in (("sender", net.prescriber), ("outsider", net.outsider)):
        _, token = await accounts.create_api_token(rt, await accounts.actor_for_user(person.id), name)
        bearers[name] = {"Authorization": f"Bearer {token}"}
    path = f"/api/v1/referrals/{referral_id}/attachments"
    png = image_bytes("PNG")
    created = await client.post(path, headers=bearers["sender"], files=[("file", ("plan.png", png, "image/png"))])
    assert created.status_code == 201, created.text
    [out] = created.json()
    assert (out["filename"], out["media_type"], out["size"], out["by"]) == (
        "plan.png",
        "image/png",
        len(png),
        "la structure qui oriente",
    )
    read = await client.get(f"{path}/{out['id']}", headers=bearers["sender"])
    assert read.status_code == 200 and read.content == png and read.headers["x-content-type-options"] == "nosniff"
    listed = (await client.get(f"/api/v1/referrals/{referral_id}", headers=bearers["sender"])).json()
    assert [f["id"] for f in listed["attachments"]] == [out["id"]] and listed["can_attach"] is True

    disguised = await client.post(
        path, headers=bearers["sender"], files=[("file", ("a.pdf", PROGRAM, "application/pdf"))]
    )
    assert disguised.status_code == 400 and disguised.headers["content-type"] == "application/problem+json"
    [error] = disguised.json()["errors"]
    assert error["field"] == "file" and "« a.pdf » n'est pas un PDF" in error["message"]
    heavy = b"\x89PNG\r\n\x1a\n" + b"\x00" * attachments.MAX_BYTES
    too_big = await client.post(path, headers=bearers["sender"], files=[("file", ("big.png", heavy, "image/png"))])
    assert too_big.status_code == 400 and "pèse plus de 5 Mo" in too_big.json()["detail"]
    no_file = await client.post(path, headers=bearers["sender"], files=[("autre", ("a.png", png, "image/png"))])
    assert no_file.status_code == 400 and no_file.headers["content-type"] == "application/problem+json"
    for outsider_call in (
        client.post(path, headers=bearers["outsider"], files=[("file", ("plan.png", png, "image/png"))]),
        client.get(f"{path}/{out['id']}", headers=bearers["outsider"]),
    ):
        response = await outsider_call
        assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"
    assert await Attachment.count() == 1


async def test_files_are_purged_six_months_after_the_end_and_with_the_anonymisation(rt: Runtime) -> None:
    net = await build(rt)
    sender = await accounts.actor_for_user(net.prescriber.id)
    receiver = await accounts.actor_for_user(net.receiver.id)
    ended, ongoing = await send_directly(rt, net), await send_directly(rt, net)
    for referral_id in (ended, ongoing):
        await service.attach(rt, sender, referral_id, [attachments.Upload("a.pdf", pdf_bytes())])
    await service.transition(rt, receiver, ended, Transition(action="accept"))
    await service.transition(rt, receiver, ongoing, Transition(action="accept"))
    rt.advance_clock(timedelta(days=20))
    await service.transition(rt, receiver, ended, Transition(action="close", outcome="helped"))

    rt.advance_clock(timedelta(days=5 * 31))  # five months after the end: kept
    assert (await jobs.tick(rt)).work["referrals.attachments_purged"] == 0
    assert await Attachment.count().where(Attachment.referral == ended) == 1
    rt.advance_clock(timedelta(days=31))  # six months: gone, the timeline says so; the ongoing one keeps its file
    assert (await jobs.tick(rt)).work["referrals.attachments_purged"] == 1
    assert await Attachment.count().where(Attachment.referral == ended) == 0
    assert await Attachment.count().where(Attachment.referral == ongoing) == 1
    timeline = (await service.read(sender, ended)).timeline
    assert timeline[-1].label == "Pièces jointes effacées (durée de conservation passée)"
    assert (await jobs.tick(rt)).work["referrals.attachments_purged"] == 0  # idempotent

    # the anonymisation empties a referral's files too (run alone here: the purge would come first)
    await service.transition(rt, receiver, ongoing, Transition(action="close", outcome="helped"))
    rt.advance_clock(timedelta(days=25 * 31))
    assert await due.anonymise(rt) == 2
    assert await Attachment.count() == 0


async def test_a_redirect_takes_the_files_along(rt: Runtime) -> None:
    net = await build(rt)
    sender = await accounts.actor_for_user(net.prescriber.id)
    receiver = await accounts.actor_for_user(net.receiver.id)
    referral_id = await send_directly(rt, net)
    await service.attach(rt, sender, referral_id, [attachments.Upload("plan.png", image_bytes("PNG"))])
    elsewhere = await make_service(net.third, "Permanence numérique", accepts_referrals=True)
    await service.transition(rt, receiver, referral_id, Transition(action="redirect", service_id=elsewhere))
    new_id = (await Referral.select(Referral.redirected_to).where(Referral.id == referral_id).first())["redirected_to"]
    assert [f.filename for f in (await service.read(sender, new_id)).attachments] == ["plan.png"]
