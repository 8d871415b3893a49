"""The resident's FALC slip (issue 11): rendered from real referrals, realistic and extreme, it passes the FALC
checker; its QR code leads to the status page; the PDF holds the service and the appointment; a third
structure gets 404; the referral page links it; without LibreOffice the PDF answers the French 503 page."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import docx
import httpx
import pytest

from hub import accounts
from hub.documents import find_soffice
from hub.falc import check_docx
from hub.runtime import Runtime
from referrals import service, slip, slots
from referrals.schemas import ReferralCreate
from tests.conftest import make_person, make_service, make_structure
from tests.test_referral_pages import DEMARCHES, RESIDENT_PHONE, Network, build, send_directly, switch_to

LONG_SERVICE = (
    "Accompagnement numérique personnalisé (ANPA) & aide aux démarches administratives en ligne "
    "pour les personnes âgées, isolées ou en situation de handicap ; RENDEZ-VOUS conseillés, etc."
)
LONG_PLACE = "Espace numérique de la Résidence Les Jardins de la Loire et des Bords du Cher réunis"
LONG_ADDRESS = (
    "Résidence Les Jardins de la Loire, bâtiment B, escalier 3, appartement 12, "
    "145 avenue du Maréchal de Lattre de Tassigny et de la Libération"
)
EVERY_DAY = "Mo-Su 08:30-12:30,13:30-19:00"
needs_soffice = pytest.mark.skipif(find_soffice() is None, reason="LibreOffice absent : scripts/install-libreoffice")


def errors_of(document: bytes) -> list[str]:
    return [b.describe() for b in check_docx(document).errors]


def decode_qr(zbarimg: str, image: bytes) -> str | None:
    """What zbar reads in a picture (None for a pictogram, which holds no code)."""
    done = subprocess.run(  # noqa: S603 (zbar's command-line decoder on our own images)
        [zbarimg, "--quiet", "--raw", "-"], input=image, capture_output=True, timeout=30, check=False
    )
    return done.stdout.decode().strip() if done.returncode == 0 else None


def pdf_text(pdftotext: str, path: Path) -> str:
    return subprocess.run(  # noqa: S603 (poppler's pdftotext)
        [pdftotext, str(path), "-"], capture_output=True, text=True, check=True, timeout=60
    ).stdout


def text_of(document: bytes) -> str:
    opened = docx.Document(io.BytesIO(document))
    cells = [p.text for t in opened.tables for row in t.rows for c in row.cells for p in c.paragraphs]
    return "\n".join([p.text for p in opened.paragraphs] + cells)


async def extreme_referral(rt: Runtime, net: Network, *, appointment: bool) -> int:
    """A service with a very long name, a long place and address, no phone, open every day twice a day."""
    sender = await make_structure(
        "Centre communal d'action sociale de Montclair-sur-Loire et des communes associées du Val (CCAS)", "CCAS"
    )
    service_id = await make_service(
        net.ccas,
        LONG_SERVICE,
        thematiques=[DEMARCHES, "difficultes-administratives-ou-juridiques--accompagnement-juridique"],
        accepts_referrals=True,
        opening_hours=EVERY_DAY,
        places=[
            {
                "name": LONG_PLACE,
                "address": LONG_ADDRESS,
                "postal_code": "45990",
                "commune": "Montclair-sur-Loire",
                "opening_hours": EVERY_DAY,
            }
        ],
    )
    prescriber = await make_person(rt, "lea.longue@ccas.example.fr", {sender: ["prescriber"]})
    actor = await accounts.actor_for_user(prescriber.id)
    booking: dict[str, object] = {}
    if appointment:
        receiver = await accounts.actor_for_user(net.receiver.id)
        await slots.publish(
            rt,
            receiver,
            slots.ScheduleCreate(
                service_id=service_id, place=LONG_PLACE, weekday=3, start_time="14:30", end_time="16:00", length=30
            ),
        )
        first = (await slots.free_slots([service_id], rt.now()))[service_id][0]
        booking = {"schedule_id": first.schedule_id, "starts_at": first.starts_at}
    command = ReferralCreate(
        service_id=service_id,
        sender_structure_id=sender,
        thematiques=[DEMARCHES],
        need="Refaire sa carte d'identité en ligne",
        resident_name="M. Jean-Baptiste DUPONT-LAVALLÉE",
        resident_phone=RESIDENT_PHONE,
        consent_method="oral",
        consent_confirmed=True,
        **booking,  # type: ignore[arg-type]
    )
    referral_id, _ = await service.create(rt, actor, command)
    return referral_id


# ---------------------------------------------------------------- the values, made FALC
def test_values_are_written_the_falc_way():
    assert slip.greeting("Awa Diallo") == "Bonjour Awa,"
    assert slip.greeting("M. Dupont") == "Bonjour,"
    assert slip.greeting("A. Diallo") == "Bonjour,"
    assert slip.greeting("") == "Bonjour,"  # anonymised after its retention time
    assert slip.greeting("JEAN-BAPTISTE Martin") == "Bonjour Jean-Baptiste,"
    assert slip.phone_in_words("02.38.00.00.02") == "02\u00a038\u00a000\u00a000\u00a002"  # never cut in two
    assert slip.phone_in_words("+33 2 38 00 00 02") == slip.phone_in_words("0238000002")
    assert slip.lines_of("Centre communal d'action sociale (CCAS)") == ["Centre communal d'action sociale, CCAS"]
    assert slip.lines_of("Emploi & insertion ; FRANCE SERVICES") == ["Emploi et insertion, France Services"]
    long_lines = slip.lines_of(LONG_SERVICE)
    assert len(long_lines) > 1 and all(len(line.split()) <= 12 for line in long_lines)
    week = [("Lundi", "8 h 30 à 12 h 30, 14 h à 17 h")] + [(d, "9 h à 12 h") for d in ("Mardi", "Mercredi", "Jeudi")]
    week += [("Vendredi", "24 h sur 24"), ("Samedi", "fermé"), ("Dimanche", "fermé")]
    items, closed = slip.hours_lines(week)
    assert [i["text"] for i in items] == [
        "Le lundi :",
        "de 8 h 30 à 12 h 30",
        "de 14 h à 17 h",
        "Du mardi au jeudi : de 9 h à 12 h",
        "Le vendredi : jour et nuit",
    ]
    assert closed
    assert slip.things_to_bring([DEMARCHES])[0] == "votre pièce d'identité"


# ---------------------------------------------------------------- rendered from real referrals
async def test_a_realistic_slip_passes_the_falc_checker_and_says_what_the_resident_needs(rt: Runtime) -> None:
    net = await build(rt)
    referral_id = await send_directly(rt, net)
    actor = await accounts.actor_for_user(net.prescriber.id)
    document = await slip.slip_docx(rt, actor, referral_id)
    assert errors_of(document) == []
    text = text_of(document)
    for expected in (
        "Bonjour Awa,",
        "Aide aux démarches en ligne",
        "Mairie annexe",
        "5 rue des Lilas",
        "45990 Montclair",
        "CAF du Loiret",
        "Appelez le service au 02\u00a038\u00a000\u00a000\u00a002.",
        "votre pièce d'identité",
        "Scannez ce code pour suivre votre demande.",
    ):
        assert expected in text, expected
    assert "Diallo" not in text and RESIDENT_PHONE not in text  # the first name only
    # the receiver's members get the same slip
    receiver = await accounts.actor_for_user(net.receiver.id)
    assert "Bonjour Awa," in text_of(await slip.slip_docx(rt, receiver, referral_id))


@pytest.mark.parametrize("appointment", [False, True], ids=["horaires-tous-les-jours", "rendez-vous"])
async def test_an_extreme_slip_passes_the_falc_checker(rt: Runtime, appointment: bool) -> None:
    net = await build(rt)
    referral_id = await extreme_referral(rt, net, appointment=appointment)
    actor = await accounts.actor_for_user(net.receiver.id)
    document = await slip.slip_docx(rt, actor, referral_id)
    assert errors_of(document) == []
    text = text_of(document)
    assert "Bonjour," in text and "Dupont" not in text  # "M. …": no first name to greet
    assert "Accompagnement numérique personnalisé" in text and "ANPA" in text and "Rendez-Vous conseillés" in text
    assert "Demandez à la personne qui vous a donné cette fiche." in text  # no phone
    if appointment:
        booked = await slots.appointment_of(referral_id)
        assert booked is not None
        assert f"Vous avez rendez-vous {slip.appointment_in_words(booked['starts_at'])}." in text
        assert "à 14 h 30." in text and "Du lundi" not in text
    else:
        assert "Du lundi au dimanche :" in text
        assert "de 8 h 30 à 12 h 30" in text and "de 13 h 30 à 19 h" in text
        assert "Les autres jours" not in text


async def test_the_qr_code_leads_to_the_status_page(rt: Runtime) -> None:
    net = await build(rt)
    referral_id = await send_directly(rt, net)
    actor = await accounts.actor_for_user(net.prescriber.id)
    document = await slip.slip_docx(rt, actor, referral_id)
    _, code = await service.read_with_code(actor, referral_id)
    url = f"{rt.settings.base_url}/suivi/{code}"
    with zipfile.ZipFile(io.BytesIO(document)) as package:
        relationships = package.read("word/_rels/document.xml.rels").decode()
        body = package.read("word/document.xml").decode()
        media = {name: package.read(name) for name in package.namelist() if name.startswith("word/media/")}
    assert f'Target="{url}"' in relationships and 'TargetMode="External"' in relationships  # the picture's link
    assert f"Code QR vers la page de suivi : {url}" in body  # its alternative text
    assert len(media) == 7  # six pictograms and the QR code
    zbarimg = shutil.which("zbarimg")
    if zbarimg is None:
        pytest.skip("zbarimg absent (apt-get install zbar-tools) : le code QR n'est pas décodé")
    decoded = {decode_qr(zbarimg, image) for image in media.values()} - {None}
    assert decoded == {url}


async def test_the_status_page_behind_the_qr_code_shows_no_personal_data(
    client: httpx.AsyncClient, rt: Runtime
) -> None:
    net = await build(rt)
    referral_id = await send_directly(rt, net)
    actor = await accounts.actor_for_user(net.prescriber.id)
    url = (await slip.context_of(rt, actor, referral_id))["status_url"]
    page = await client.get(url.removeprefix(rt.settings.base_url))
    assert page.status_code == 200 and "Aide aux démarches en ligne" in page.text
    assert "Awa" not in page.text and RESIDENT_PHONE not in page.text


# ---------------------------------------------------------------- the routes
async def test_the_referral_page_links_the_slip_and_a_third_structure_gets_404(
    client: httpx.AsyncClient, rt: Runtime
) -> None:
    net = await build(rt)
    referral_id = await send_directly(rt, net)
    await switch_to(client, net.prescriber)
    page = await client.get(f"/orientations/{referral_id}")
    assert f'href="/orientations/{referral_id}/fiche.pdf"' in page.text
    assert "Imprimer la fiche pour la personne (PDF)" in page.text
    assert f'href="/orientations/{referral_id}/fiche.docx"' in page.text

    word = await client.get(f"/orientations/{referral_id}/fiche.docx")
    assert word.status_code == 200
    assert word.headers["content-disposition"] == f'attachment; filename="fiche-orientation-{referral_id}.docx"'
    assert word.headers["cache-control"] == "no-store"
    assert word.headers["content-type"].startswith(slip.MEDIA_TYPES["docx"])
    assert errors_of(word.content) == []

    await switch_to(client, net.outsider)
    for kind in ("docx", "pdf"):
        refused = await client.get(f"/orientations/{referral_id}/fiche.{kind}")
        assert refused.status_code == 404 and "Awa" not in refused.text


@needs_soffice
async def test_the_pdf_holds_the_service_and_the_appointment(
    client: httpx.AsyncClient, rt: Runtime, tmp_path: Path
) -> None:
    net = await build(rt)
    referral_id = await extreme_referral(rt, net, appointment=True)
    booked = await slots.appointment_of(referral_id)
    assert booked is not None
    await switch_to(client, net.receiver)
    response = await client.get(f"/orientations/{referral_id}/fiche.pdf")
    assert response.status_code == 200, response.text[:300]
    assert response.content.startswith(b"%PDF")
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == f'attachment; filename="fiche-orientation-{referral_id}.pdf"'
    assert response.headers["cache-control"] == "no-store"
    (tmp_path / "fiche.pdf").write_bytes(response.content)
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "pdftotext absent : scripts/install-libreoffice installe poppler-utils"
    text = pdf_text(pdftotext, tmp_path / "fiche.pdf")
    flat = " ".join(text.split())
    assert "Accompagnement numérique personnalisé" in flat
    assert f"Vous avez rendez-vous {slip.appointment_in_words(booked['starts_at'])}." in flat
    assert re.search(r"Page 1 sur [1-3]\b", flat)  # the footer's fields, filled by LibreOffice


async def test_without_libreoffice_the_pdf_answers_the_french_503_page(client: httpx.AsyncClient, rt: Runtime) -> None:
    net = await build(rt)
    referral_id = await send_directly(rt, net)
    rt.documents.soffice = Path("/nulle/part/soffice.bin")
    await switch_to(client, net.prescriber)
    response = await client.get(f"/orientations/{referral_id}/fiche.pdf")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/html")
    assert "LibreOffice n&#39;est pas installé" in response.text or "LibreOffice n'est pas installé" in response.text
    assert (await client.get(f"/orientations/{referral_id}/fiche.docx")).status_code == 200  # Word still works


CHRISTMAS_WEEK = datetime(2026, 12, 21, 9, 0, tzinfo=UTC)  # Monday; the service closes from the 24th to the 31st
WITH_CLOSURES = "Mo,Tu,Th,Fr 09:00-12:00,14:00-17:00; We 09:00-12:00; Dec 24-Dec 31 off; PH off"


@needs_soffice
async def test_the_slip_gives_the_regular_hours_and_names_the_closed_days(
    client: httpx.AsyncClient, rt: Runtime, tmp_path: Path
) -> None:
    """Printed in a holiday week, the slip still says the usual week (the person keeps it for weeks), and names
    the days the service is closed, holidays too: in words, through the FALC checker."""
    net = await build(rt)
    rt.advance_clock(CHRISTMAS_WEEK - rt.now())
    service_id = await make_service(
        net.ccas,
        "Permanence France Services",
        thematiques=[DEMARCHES],
        accepts_referrals=True,
        phone="02 38 00 00 09",
        places=[
            {
                "name": "Maison France Services",
                "address": "1 rue de la Poste",
                "postal_code": "45990",
                "commune": "Montclair-sur-Loire",
                "opening_hours": WITH_CLOSURES,
            }
        ],
    )
    actor = await accounts.actor_for_user(net.prescriber.id)
    command = ReferralCreate(
        service_id=service_id,
        thematiques=[DEMARCHES],
        resident_name="Awa Diallo",
        resident_phone=RESIDENT_PHONE,
        consent_method="oral",
        consent_confirmed=True,
    )
    referral_id, _ = await service.create(rt, actor, command)
    document = await slip.slip_docx(rt, actor, referral_id)
    assert errors_of(document) == []
    (tmp_path / "fiche-horaires.docx").write_bytes(document)  # to look at, and for `maillage falc check`
    await switch_to(client, net.prescriber)
    response = await client.get(f"/orientations/{referral_id}/fiche.pdf")
    assert response.status_code == 200
    (tmp_path / "fiche-horaires.pdf").write_bytes(response.content)
    pdftotext = shutil.which("pdftotext")
    assert pdftotext
    text = re.sub(r"[\uf000-\uf8ff•]", " ", pdf_text(pdftotext, tmp_path / "fiche-horaires.pdf"))  # bullets
    flat = " ".join(text.split())
    assert "Le lundi et le mardi : de 9 h à 12 h de 14 h à 17 h" in flat
    assert "Le mercredi : de 9 h à 12 h" in flat
    assert "Le jeudi et le vendredi : de 9 h à 12 h de 14 h à 17 h" in flat  # closed this week, open as usual
    assert "Le service est fermé le samedi et le dimanche." in flat
    assert "Il est aussi fermé les jours fériés." in flat
    assert "Les autres jours" not in flat


def test_the_regular_week_leaves_out_holidays_and_says_when_weeks_differ() -> None:
    week, varies = slip.regular_week(WITH_CLOSURES, CHRISTMAS_WEEK.date())
    assert [day for day, hours in week if hours == "fermé"] == ["Samedi", "Dimanche"] and not varies
    every_other = "Mo-Fr 09:00-12:00; week 1-53/2 Sa 09:00-12:00"
    week, varies = slip.regular_week(every_other, CHRISTMAS_WEEK.date())
    assert varies  # one Saturday in two: the slip says to call first
    assert slip.closed_sentences(["Lundi", "Mercredi", "Vendredi", "Samedi", "Dimanche"], holidays=False) == [
        "Le service est fermé le lundi, le mercredi et du vendredi au dimanche."
    ]
    assert slip.closed_sentences([], holidays=True) == ["Le service est fermé les jours fériés."]


def test_what_to_bring_is_the_services_own_list_when_it_gives_one():
    own = slip.things_to_bring([DEMARCHES], ["Pièce d'identité", "Dernier avis d'imposition", "  ", "RIB"])
    assert own == ["pièce d'identité", "dernier avis d'imposition", "RIB", "cette fiche"]
    assert slip.things_to_bring([DEMARCHES], [])[0] == "votre pièce d'identité"  # else the need's usual papers
