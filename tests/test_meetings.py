"""Network meetings: invitations by real mail with a real .ics, the answer link's single use and expiry, reminders,
attendance, action items carried over, partner indicators' types, who may do what, and the report section."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import docx
import httpx
import icalendar
import pytest
from docx.oxml.ns import qn

from hub import accounts, jobs, mail
from hub.documents import find_soffice
from hub.errors import Forbidden
from hub.falc import check_docx
from hub.reporting import Period
from hub.runtime import Runtime
from network.meetings import attendance, indicators, rsvp, service
from network.meetings.service import ActionCommand, EventCommand
from network.meetings.tables import ActionItem, Attendance, IndicatorValue, Invitation, MeetingEvent
from tests.conftest import Inbox, Person, make_person, make_structure, post_form, sign_in

PARIS = ZoneInfo("Europe/Paris")
needs_soffice = pytest.mark.skipif(find_soffice() is None, reason="LibreOffice absent : scripts/install-libreoffice")


async def _network(rt: Runtime) -> dict[str, Any]:
    a = await make_structure("Centre social des Tilleuls", "CS", neighbourhood="Les Tilleuls")
    b = await make_structure("CCAS de Montclair", "CCAS", neighbourhood="Gare")
    return {
        "a": a,
        "b": b,
        "coordinator": await make_person(rt, "claire.coordinatrice@reseau.example.fr", coordinator=True),
        "lea": await make_person(rt, "lea.aidante@tilleuls.example.fr", {a: ["prescriber"]}),
        "bruno": await make_person(rt, "bruno.referent@ccas.example.fr", {b: ["manager"]}),
    }


async def _actor(person: Person) -> accounts.Actor:
    return await accounts.actor_for_user(person.id)


def _command(day: dt.date, **changes: Any) -> EventCommand:
    values: dict[str, Any] = {
        "kind": "meeting",
        "title": "Réunion du réseau, second semestre",
        "day": day,
        "start_time": "14:00",
        "end_time": "16:30",
        "place": "Salle du conseil, 1 place de la Mairie",
        "agenda": ("Tour de table", "Bilan du semestre"),
    }
    return EventCommand(**{**values, **changes})


def _parts(message: Message) -> tuple[str, list[Message]]:
    body, files = "", []
    for part in message.walk():
        if part.get_content_maintype() == "multipart":
            continue
        if part.get_filename():
            files.append(part)
        elif part.get_content_type() == "text/plain":
            body = part.get_payload(decode=True).decode()  # type: ignore[union-attr]
    return body, files


def _subject(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def _link(body: str, prefix: str) -> str:
    match = re.search(rf"https?://[^\s]+({re.escape(prefix)}[^\s]+)", body)
    assert match, f"no {prefix} link in the mail"
    return match.group(1)


async def _invited(rt: Runtime, inbox: Inbox, people: dict[str, Any], day: dt.date) -> tuple[int, dict[str, str]]:
    coordinator = await _actor(people["coordinator"])
    event_id = await service.create_event(rt, coordinator, _command(day))
    assert await rsvp.invite(rt, coordinator, event_id) == 2
    assert await mail.deliver_due(rt) == (2, 0)
    links = {}
    for key in ("lea", "bruno"):
        (message,) = inbox.to(people[key].email)
        links[key] = _link(_parts(message)[0], "/reunions/reponse/")
    return event_id, links


# ---------------------------------------------------------------- invitations, .ics, answers
async def test_invitation_mail_arrives_with_an_ics_the_icalendar_parser_reads(rt, inbox):
    people = await _network(rt)
    day = rt.today() + dt.timedelta(days=20)
    event_id, _ = await _invited(rt, inbox, people, day)

    (message,) = inbox.to(people["lea"].email)
    assert _subject(message) == "Invitation à un événement du réseau"  # no name, no structure
    body, files = _parts(message)
    assert "/reunions/reponse/" in body and "Bilan du semestre" in body
    (ics_part,) = files
    assert ics_part.get_filename() == "invitation.ics"
    assert ics_part.get_content_type() == "text/calendar"
    calendar = icalendar.Calendar.from_ical(ics_part.get_payload(decode=True))
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"maillage-evenement-{event_id}@testserver.local"
    start = event.decoded("DTSTART")
    assert start == dt.datetime.combine(day, dt.time(14, 0), PARIS)
    assert start.tzinfo is not None and str(start.tzinfo) in ("Europe/Paris", "CET", "CEST")
    assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    assert event.decoded("DTEND") == dt.datetime.combine(day, dt.time(16, 30), PARIS)
    assert str(event["SUMMARY"]) == "Réunion du réseau, second semestre"
    assert str(event["LOCATION"]) == "Salle du conseil, 1 place de la Mairie"
    assert [c.name for c in calendar.walk("VTIMEZONE")] == ["VTIMEZONE"]
    # the token is stored hashed: the link's token is nowhere in the database
    token = _link(body, "/reunions/reponse/").rsplit("/", 1)[1]
    rows = await Invitation.select(Invitation.token_hash)
    assert token not in {r["token_hash"] for r in rows} and len(rows) == 2


async def test_answer_link_answers_once_then_says_so_in_french(client: httpx.AsyncClient, rt, inbox):
    people = await _network(rt)
    event_id, links = await _invited(rt, inbox, people, rt.today() + dt.timedelta(days=5))

    page = await client.get(links["lea"])
    assert page.status_code == 200 and "Viendrez-vous" in page.text and "Bilan du semestre" in page.text
    assert (await Invitation.select(Invitation.answer).where(Invitation.user == people["lea"].id))[0]["answer"] == ""
    done = await post_form(client, links["lea"], {"answer": "yes"})
    assert done.status_code == 200 and "Votre réponse est enregistrée" in done.text

    again = await client.get(links["lea"])
    assert again.status_code == 410 and "déjà servi" in again.text
    second = await post_form(client, links["lea"], {"answer": "no"})
    assert second.status_code == 410 and "déjà servi" in second.text
    row = (await Invitation.select().where(Invitation.user == people["lea"].id))[0]
    assert row["answer"] == "yes" and row["token_used_at"] is not None  # the first answer stays

    # signed in, the answer can still change until the day
    await sign_in(client, people["lea"])
    changed = await post_form(client, f"/reunions/invitations/{row['id']}", {"answer": "maybe"})
    assert changed.status_code == 200 and "Réponse enregistrée" in changed.text
    assert (await Invitation.select(Invitation.answer).where(Invitation.id == row["id"]))[0]["answer"] == "maybe"
    # someone else's invitation is not found
    other = (await Invitation.select().where(Invitation.user == people["bruno"].id))[0]
    foreign = await post_form(client, f"/reunions/invitations/{other['id']}", {"answer": "no"})
    assert foreign.status_code == 404
    assert (await Invitation.select(Invitation.answer).where(Invitation.id == other["id"]))[0]["answer"] == ""
    assert event_id


async def test_answer_link_expires_after_the_event_day(client: httpx.AsyncClient, rt, inbox):
    people = await _network(rt)
    _, links = await _invited(rt, inbox, people, rt.today() + dt.timedelta(days=1))
    rt.advance_clock(dt.timedelta(days=3))
    page = await client.get(links["bruno"])
    assert page.status_code == 410 and "expiré" in page.text and '<html lang="fr">' in page.text
    post = await post_form(client, links["bruno"], {"answer": "yes"})
    assert post.status_code == 410
    assert (await Invitation.select(Invitation.answer).where(Invitation.user == people["bruno"].id))[0]["answer"] == ""


async def test_reminder_goes_once_two_days_before_with_a_fresh_link_for_the_silent(client, rt, inbox):
    people = await _network(rt)
    event_id, links = await _invited(rt, inbox, people, rt.today() + dt.timedelta(days=6))
    await post_form(client, links["lea"], {"answer": "no"})
    inbox.messages.clear()
    assert await rsvp.send_reminders(rt) == 0  # not yet
    rt.advance_clock(dt.timedelta(days=4))
    assert await rsvp.send_reminders(rt) == 1  # Léa declined: only Bruno
    assert await rsvp.send_reminders(rt) == 0  # once
    await mail.deliver_due(rt)
    (reminder,) = inbox.messages
    assert reminder["To"] == people["bruno"].email and _subject(reminder).startswith("Rappel")
    fresh = _link(_parts(reminder)[0], "/reunions/reponse/")
    assert (await client.get(links["bruno"])).status_code == 410  # the first link was replaced
    assert (await client.get(fresh)).status_code == 200
    assert (await MeetingEvent.select(MeetingEvent.reminded_at).where(MeetingEvent.id == event_id))[0]["reminded_at"]


async def test_the_jobs_loop_runs_the_reminders(rt, inbox):
    people = await _network(rt)
    await _invited(rt, inbox, people, rt.today() + dt.timedelta(days=2))
    report = await jobs.tick(rt)
    assert report.work["meetings.reminded"] == 2
    assert await Invitation.count().where(Invitation.reminded_at.is_not_null()) == 2


# ---------------------------------------------------------------- events: bad input and who may
async def test_an_event_without_a_date_is_refused_with_the_form_back(client: httpx.AsyncClient, rt):
    people = await _network(rt)
    await sign_in(client, people["coordinator"])
    form = {"kind": "meeting", "title": "Réunion sans date", "day": "", "start_time": "14:00", "end_time": "12:00"}
    response = await post_form(client, "/reunions/nouvelle", form)
    assert response.status_code == 400
    assert "un événement sans date ne peut pas être créé" in response.text
    assert "L&#39;heure de fin vient après l&#39;heure de début" in response.text  # every field at once
    assert "Indiquez le lieu" in response.text
    assert 'value="Réunion sans date"' in response.text  # the form comes back with its values
    assert await MeetingEvent.count() == 0


async def test_only_the_coordinator_creates_and_invites(client: httpx.AsyncClient, rt):
    people = await _network(rt)
    bruno = await _actor(people["bruno"])
    try:
        await service.create_event(rt, bruno, _command(rt.today()))
    except Forbidden as error:
        assert "coordinateur" in error.message
    else:  # pragma: no cover
        raise AssertionError("a manager created an event")
    await sign_in(client, people["bruno"])
    refused = await post_form(
        client, "/reunions/nouvelle", {"title": "x", "day": rt.today().isoformat(), "place": "Salle"}
    )
    assert refused.status_code == 403
    assert (await client.get("/reunions/nouvelle")).status_code == 403
    assert await MeetingEvent.count() == 0


# ---------------------------------------------------------------- attendance, actions carried over
async def test_open_action_items_are_carried_to_the_next_meeting(client: httpx.AsyncClient, rt, inbox):
    people = await _network(rt)
    coordinator = await _actor(people["coordinator"])
    today = rt.today()
    past = await service.create_event(rt, coordinator, _command(today - dt.timedelta(days=60), title="Réunion de juin"))
    nxt = await service.create_event(rt, coordinator, _command(today + dt.timedelta(days=10), title="Réunion de déc."))
    open_id = await service.add_action(
        rt, coordinator, past, ActionCommand("action", "Ouvrir une permanence", people["b"], today)
    )
    done_id = await service.add_action(rt, coordinator, past, ActionCommand("action", "Recenser", people["a"]))
    await service.add_action(rt, coordinator, past, ActionCommand("decision", "Se réunir deux fois par an"))
    await service.set_action_status(rt, coordinator, done_id, "done")

    event = await service.event_row(nxt)
    carried = await service.carried_over(event, today)
    assert [a["id"] for a in carried] == [open_id]
    assert (await service.full_agenda(rt, event))[-1] == "Suivi des actions encore ouvertes : 1"
    assert await service.carried_over(await service.event_row(past), today) == []  # a past event keeps its own

    # the owner is told by mail, with a signed link that needs no password
    await mail.deliver_due(rt)
    (message,) = inbox.to(people["bruno"].email)
    assert _subject(message) == "Une action du réseau est confiée à votre structure"
    link = _link(_parts(message)[0], "/reunions/action/")
    assert (await client.get(link)).status_code == 200
    assert (await client.get(link[:-4] + "abcd")).status_code == 404
    done = await post_form(client, link, {"status": "done"})
    assert done.status_code == 200 and "Le statut est enregistré" in done.text
    assert await service.carried_over(event, today) == []

    # the coordinator's page of the next meeting lists what is carried; the owner's page lists its items
    await service.set_action_status(rt, coordinator, open_id, "doing")
    await sign_in(client, people["coordinator"])
    page = await client.get(f"/reunions/{nxt}")
    assert "Ouvrir une permanence" in page.text and "Actions ouvertes reportées" in page.text


async def test_owners_update_their_items_and_others_get_404(client: httpx.AsyncClient, rt):
    people = await _network(rt)
    coordinator = await _actor(people["coordinator"])
    event_id = await service.create_event(rt, coordinator, _command(rt.today()))
    action_b = await service.add_action(rt, coordinator, event_id, ActionCommand("action", "Action de B", people["b"]))
    await sign_in(client, people["lea"])
    assert (await post_form(client, f"/reunions/actions/{action_b}", {"status": "done"})).status_code == 404
    assert (await ActionItem.select(ActionItem.status).where(ActionItem.id == action_b))[0]["status"] == "todo"
    client.cookies.clear()
    await sign_in(client, people["bruno"])
    mine = await client.get("/reunions")
    assert "Action de B" in mine.text
    await post_form(client, f"/reunions/actions/{action_b}", {"status": "doing"})
    assert (await ActionItem.select(ActionItem.status).where(ActionItem.id == action_b))[0]["status"] == "doing"
    wrong = await post_form(client, f"/reunions/actions/{action_b}", {"status": "fini"})
    assert wrong.status_code == 200 and "Statut inconnu" in wrong.text
    assert (await ActionItem.select(ActionItem.status).where(ActionItem.id == action_b))[0]["status"] == "doing"


async def test_attendance_checklist_and_sheet(client: httpx.AsyncClient, rt, inbox, tmp_path):
    people = await _network(rt)
    event_id, _ = await _invited(rt, inbox, people, rt.today())
    await sign_in(client, people["coordinator"])
    checklist = await client.get(f"/reunions/{event_id}/presence")
    assert checklist.status_code == 200 and "Qui est venu" in checklist.text
    saved = await post_form(client, f"/reunions/{event_id}/presence", {"present": str(people["lea"].id)})
    assert saved.status_code == 200 and "Présences enregistrées : 1" in saved.text
    rows = await Attendance.select(Attendance.user, Attendance.structure)
    assert rows == [{"user": people["lea"].id, "structure": people["a"]}]
    stranger = await make_person(rt, "sam.inconnu@example.fr")
    refused = await post_form(client, f"/reunions/{event_id}/presence", {"present": str(stranger.id)})
    assert refused.status_code == 400 and "personnes invitées" in refused.text
    assert await Attendance.count() == 1  # nothing half-written

    sheet = await client.get(f"/reunions/{event_id}/feuille.docx")
    assert sheet.status_code == 200 and sheet.headers["cache-control"] == "no-store"
    report = check_docx(sheet.content)
    assert report.ok, "\n".join(b.describe() for b in report.errors)
    document = docx.Document(io.BytesIO(sheet.content))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    assert "Lea Aidante" in cells and "CCAS de Montclair" in cells


# ---------------------------------------------------------------- partner indicators
async def test_indicator_values_of_the_wrong_type_are_refused_and_nothing_is_saved(client: httpx.AsyncClient, rt):
    people = await _network(rt)
    await sign_in(client, people["coordinator"])
    await post_form(
        client,
        "/reunions/indicateurs",
        {
            "label": "Inscriptions CAF",
            "definition": "Comptes créés.",
            "number_type": "integer",
            "by_neighbourhood": "on",
        },
    )
    await post_form(
        client,
        "/reunions/indicateurs",
        {"label": "Heures", "definition": "Heures d'accompagnement.", "number_type": "decimal", "unit": "heures"},
    )
    bad_definition = await post_form(client, "/reunions/indicateurs", {"label": "X", "number_type": "texte"})
    assert bad_definition.status_code == 400 and "nombre entier ou nombre décimal" in bad_definition.text
    client.cookies.clear()
    await sign_in(client, people["bruno"])
    url = f"/reunions/indicateurs/{people['b']}"
    form = await client.get(url + "?periode=2026-S1")
    assert form.status_code == 200 and "Quartier Gare" in form.text
    bad = await post_form(client, url, {"period": "2026-S1", "v1": "12,5", "v1__Gare": "3", "v2": "abc"})
    assert bad.status_code == 400
    assert "Nombre entier attendu" in bad.text and "Nombre attendu, par exemple 12 ou 12,5" in bad.text
    assert 'value="12,5"' in bad.text  # the form comes back as typed
    assert await IndicatorValue.count() == 0
    future = await post_form(client, url, {"period": f"{rt.today().year + 1}-S2", "v1": "3"})
    assert future.status_code == 400 and "pas commencé" in future.text
    good = await post_form(client, url, {"period": "2026-S1", "v1": "12", "v1__Gare": "7", "v2": "10,5"})
    assert good.status_code == 200 and "Valeurs enregistrées : 3" in good.text
    # another structure's page is not found
    assert (await client.get(f"/reunions/indicateurs/{people['a']}")).status_code == 404
    totals = await indicators.totals(Period.parse("2026-S1"))
    assert [(t["label"], t["total"], t["by_place"]) for t in totals] == [
        ("Inscriptions CAF", 12.0, [("Gare", 7.0)]),
        ("Heures", 10.5, []),
    ]


# ---------------------------------------------------------------- the report section
async def test_meetings_section_counts_events_attendance_actions_and_indicators(rt, inbox):
    people = await _network(rt)
    coordinator = await _actor(people["coordinator"])
    period = Period.parse(f"{rt.today().year}-S{1 if rt.today().month <= 6 else 2}")
    event_id, _ = await _invited(rt, inbox, people, rt.today())
    await attendance.record(rt, coordinator, event_id, [people["lea"].id, people["bruno"].id])
    first = await service.add_action(rt, coordinator, event_id, ActionCommand("action", "Une", people["a"]))
    await service.add_action(rt, coordinator, event_id, ActionCommand("action", "Deux", people["b"]))
    await service.set_action_status(rt, coordinator, first, "done")
    section = await service.meetings_section(rt, period)
    values = {f.indicator.key: (f.value, f.previous) for f in section.figures}
    assert values["meetings.events"] == (1, 0)
    assert values["meetings.present"] == (2, 0)
    assert values["meetings.structures_present"] == (2, 0)
    assert values["meetings.actions"] == (2, 0)
    assert values["meetings.actions_open"] == (1, 0)
    tables = {t.key: t for t in section.tables}
    assert tables["reunions"].rows[0][1:] == (2, 0, 2)
    assert dict(tables["actions_statut"].rows) == {"À faire": 1, "En cours": 0, "Fait": 1, "Abandonné": 0}
    assert not section.empty and section.order == 60
    module = next(m for m in rt.modules if m.name == "meetings")
    assert module.report is not None and (await module.report(rt, period)).key == "meetings"


async def test_a_moved_event_sends_the_new_ics_with_the_same_uid_and_the_next_sequence(client, rt, inbox):
    people = await _network(rt)
    event_id, links = await _invited(rt, inbox, people, rt.today() + dt.timedelta(days=20))
    await post_form(client, links["lea"], {"answer": "no"})  # declined: not told
    inbox.messages.clear()
    coordinator = await _actor(people["coordinator"])
    new_day = rt.today() + dt.timedelta(days=27)
    same = _command(rt.today() + dt.timedelta(days=20), agenda=("Tour de table",))
    assert await rsvp.update_event(rt, coordinator, event_id, same) == 0  # the agenda alone: no new version
    assert await rsvp.update_event(rt, coordinator, event_id, _command(new_day, start_time="09:30")) == 1
    await mail.deliver_due(rt)
    (message,) = inbox.messages
    assert message["To"] == people["bruno"].email
    assert _subject(message) == "Un événement du réseau change de date, d'heure ou de lieu"
    body, (ics_part,) = _parts(message)
    assert "/reunions/reponse/" in body  # Bruno had not answered: a fresh link
    (event,) = icalendar.Calendar.from_ical(ics_part.get_payload(decode=True)).walk("VEVENT")
    assert str(event["UID"]) == f"maillage-evenement-{event_id}@testserver.local"
    assert int(event["SEQUENCE"]) == 1
    assert event.decoded("DTSTART") == dt.datetime.combine(new_day, dt.time(9, 30), PARIS)


def _pdf_text(path: Path) -> str:
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "pdftotext absent : scripts/install-libreoffice installe poppler-utils"
    return subprocess.run(  # noqa: S603 (poppler's pdftotext)
        [pdftotext, "-layout", str(path), "-"], capture_output=True, text=True, check=True, timeout=60
    ).stdout


@needs_soffice
async def test_the_attendance_sheet_pdf_lists_the_invited_by_structure(client, rt, inbox, tmp_path):
    people = await _network(rt)
    event_id, _ = await _invited(rt, inbox, people, rt.today() + dt.timedelta(days=3))
    await sign_in(client, people["coordinator"])
    response = await client.get(f"/reunions/{event_id}/feuille.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert response.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "feuille.pdf"
    pdf.write_bytes(response.content)
    text = _pdf_text(pdf)
    day = rt.today() + dt.timedelta(days=3)
    assert "Feuille de présence" in text and rsvp.day_text(day) in text and "de 14 h à 16 h 30." in text
    assert "Lea Aidante" in text and "Centre social des Tilleuls" in text and "Pas de réponse" in text
    assert re.search(r"Page 1 sur \d", text)


@needs_soffice
async def test_a_long_attendance_sheet_repeats_its_header_row_on_every_page(client, rt, inbox, tmp_path):
    people = await _network(rt)
    for n in range(36):  # with the two of _network: 38 rows of 1.6 cm, five pages or so
        await make_person(rt, f"personne.invitee{n:02d}@tilleuls.example.fr", {people["a"]: ["prescriber"]})
    coordinator = await _actor(people["coordinator"])
    event_id = await service.create_event(rt, coordinator, _command(rt.today() + dt.timedelta(days=3)))
    assert await rsvp.invite(rt, coordinator, event_id) == 38
    await sign_in(client, people["coordinator"])

    sheet = await client.get(f"/reunions/{event_id}/feuille.docx")
    document = docx.Document(io.BytesIO(sheet.content))
    (listing,) = [t for t in document.tables if t.rows[0].cells[0].text == "Structure"]
    header = listing.rows[0]._tr
    assert header.trPr is not None and header.trPr.find(qn("w:tblHeader")) is not None  # the repeat mark
    # and it stays the first row of its table: adjacent tables are one table to Word and LibreOffice, whose
    # first row (the part's pictogram) is then no header, and nothing repeats
    assert listing._tbl.getprevious().tag == qn("w:p")
    assert len(listing.rows) == 39

    response = await client.get(f"/reunions/{event_id}/feuille.pdf")
    pdf = tmp_path / "feuille.pdf"
    pdf.write_bytes(response.content)
    pages = [page for page in _pdf_text(pdf).split("\f") if page.strip()]
    listed = [page for page in pages if "Personne Invitee" in page]
    assert len(pages) >= 4 and len(listed) >= 3, "a sheet of several pages"
    for number, page in enumerate(listed, start=pages.index(listed[0]) + 1):
        assert re.search(r"Structure +Nom +Réponse +Signature", page), f"no header row on page {number}"
