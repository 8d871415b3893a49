"""The meetings' pages: one length limit per text field, answered beside the field with the text
kept (never a bare 400), with the same maxlength on the page; an action item's due date not before its meeting,
overdue items flagged; the event page saying truthfully who is invited."""

from __future__ import annotations

import datetime as dt
import html
import json
import re

import httpx

from network.meetings import indicators, rsvp, service
from network.meetings.indicators import IndicatorCommand
from network.meetings.service import MAX_MINUTES, ActionCommand
from network.meetings.tables import ActionItem, MeetingEvent, PartnerIndicator
from tests.conftest import make_person, make_structure, post_form, sign_in
from tests.test_meetings import _actor, _command, _invited, _network, _pdf_text, needs_soffice


def _error_of(page: str, field: str) -> str:
    match = re.search(rf'<p class="error-text" id="{field}-error">([^<]*)</p>', page)
    assert match, f"no message beside {field}"
    return html.unescape(match.group(1))


def _textarea(page: str, field: str) -> str:
    match = re.search(rf'<textarea id="{field}" name="{field}"[^>]*>(.*?)</textarea>', page, re.S)
    assert match, f"no textarea {field}"
    return html.unescape(match.group(1))


async def test_over_long_minutes_come_back_beside_the_field_with_the_text_kept(client: httpx.AsyncClient, rt):
    people = await _network(rt)
    event_id = await service.create_event(rt, await _actor(people["coordinator"]), _command(rt.today()))
    await sign_in(client, people["coordinator"])
    page = (await client.get(f"/reunions/{event_id}")).text
    assert f'maxlength="{MAX_MINUTES}"' in page  # the page says the service's one limit
    for length in (MAX_MINUTES + 1, 60_001, 250_000):
        typed = ("Compte rendu. " * (length // 14 + 1))[:length]
        response = await post_form(client, f"/reunions/{event_id}/compte-rendu", {"minutes": typed})
        assert response.status_code == 400, length
        assert "50 000 au plus" in _error_of(response.text, "minutes").replace("\u202f", " ")
        assert _textarea(response.text, "minutes") == typed  # nothing typed is lost
    assert (await service.event_row(event_id))["minutes"] == ""
    # at the limit, with the browser's two-character line breaks, it is saved
    lines = "a" * 99 + "\n"
    typed = (lines * (MAX_MINUTES // len(lines)))[:MAX_MINUTES]
    saved = await post_form(client, f"/reunions/{event_id}/compte-rendu", {"minutes": typed.replace("\n", "\r\n")})
    assert saved.status_code == 200 and "Compte rendu enregistré" in saved.text
    assert len((await service.event_row(event_id))["minutes"]) == len(typed.strip())


async def test_over_long_event_fields_come_back_beside_the_field_with_the_text_kept(client: httpx.AsyncClient, rt):
    people = await _network(rt)
    await sign_in(client, people["coordinator"])
    form_page = (await client.get("/reunions/nouvelle")).text
    assert f'maxlength="{service.MAX_TITLE}"' in form_page and f'maxlength="{service.MAX_PLACE}"' in form_page
    assert f'maxlength="{service.MAX_AGENDA_CHARS}"' in form_page
    agenda = "\n".join(f"Point {n} " + "x" * 200 for n in range(350))  # 72 000 characters or so
    form = {
        "kind": "meeting",
        "title": "T" * 2500,
        "day": (rt.today() + dt.timedelta(days=10)).isoformat(),
        "start_time": "14:00",
        "end_time": "16:00",
        "place": "Salle " * 1000,
        "agenda": agenda,
        "audience": "all",
    }
    response = await post_form(client, "/reunions/nouvelle", form)
    assert response.status_code == 400
    assert "350 points" in _error_of(response.text, "agenda")
    assert "200 caractères au plus" in _error_of(response.text, "title")
    assert "300 caractères au plus" in _error_of(response.text, "place")
    assert _textarea(response.text, "agenda").replace("\r\n", "\n") == agenda
    assert f'value="{"T" * 2500}"' in response.text
    one_long_point = await post_form(
        client, "/reunions/nouvelle", {**form, "title": "Réunion", "agenda": "a\n" + "b" * 400}
    )
    assert "Le point 2 compte 400 caractères" in _error_of(one_long_point.text, "agenda")
    assert await MeetingEvent.count() == 0


async def test_an_over_long_indicator_definition_comes_back_beside_the_field(client: httpx.AsyncClient, rt):
    people = await _network(rt)
    await sign_in(client, people["coordinator"])
    page = (await client.get("/reunions/indicateurs")).text
    assert 'maxlength="2000"' in page and 'maxlength="200"' in page and 'maxlength="40"' in page
    typed = "Ce qui est compté. " * 4000
    response = await post_form(
        client, "/reunions/indicateurs", {"label": "Inscriptions", "definition": typed, "number_type": "integer"}
    )
    assert response.status_code == 400 and "2 000 au plus" in _error_of(response.text, "definition")
    assert _textarea(response.text, "definition") == typed
    assert await PartnerIndicator.count() == 0


async def test_a_due_date_before_the_meeting_is_refused_and_late_actions_are_flagged(client: httpx.AsyncClient, rt):
    people = await _network(rt)
    coordinator = await _actor(people["coordinator"])
    day = rt.today() - dt.timedelta(days=20)
    event_id = await service.create_event(rt, coordinator, _command(day))
    await sign_in(client, people["coordinator"])
    form = {"kind": "action", "title": "Recenser les besoins", "owner_structure_id": str(people["b"])}
    refused = await post_form(client, f"/reunions/{event_id}/actions", {**form, "due_date": "1999-01-01"})
    assert refused.status_code == 400
    assert "ne peut pas tomber avant l'événement" in _error_of(refused.text, "due_date")
    assert 'value="1999-01-01"' in refused.text and 'value="Recenser les besoins"' in refused.text
    assert await ActionItem.count() == 0
    # the service says it too, to any other caller
    late = ActionCommand("action", "Recenser", people["b"], day - dt.timedelta(days=1))
    try:
        await service.add_action(rt, coordinator, event_id, late)
        raise AssertionError("a due date before the meeting was accepted")
    except service.Invalid as error:
        assert "due_date" in error.fields
    # the meeting's own day is fine; passed and still open, it is late
    ok = await post_form(client, f"/reunions/{event_id}/actions", {**form, "due_date": day.isoformat()})
    assert ok.status_code == 200 and "Enregistré" in ok.text
    assert "en retard" in ok.text
    (item,) = await ActionItem.select(ActionItem.id)
    await service.set_action_status(rt, coordinator, item["id"], "done")
    assert "en retard" not in (await client.get(f"/reunions/{event_id}")).text  # done: no longer late
    await service.set_action_status(rt, coordinator, item["id"], "doing")
    client.cookies.clear()
    await sign_in(client, people["bruno"])
    mine = await client.get("/reunions")
    assert "Recenser les besoins" in mine.text and "en retard" in mine.text


async def test_the_event_page_says_truthfully_who_is_invited(client: httpx.AsyncClient, rt, inbox):
    people = await _network(rt)  # two structures with a member each
    await make_structure("Médiathèque sans compte", "MEDIA")
    event_id, _ = await _invited(rt, inbox, people, rt.today() + dt.timedelta(days=5))
    await sign_in(client, people["coordinator"])
    page = html.unescape((await client.get(f"/reunions/{event_id}")).text)
    assert "Toutes les structures membres sont invitées" not in page
    assert "Public : toutes les structures membres du réseau (3)." in page
    assert (
        "Invitations envoyées à 2 personnes de 2 structures : CCAS de Montclair et Centre social des Tilleuls." in page
    )
    assert "1 de ces structures n'a aucun compte actif sur Maillage" in page


@needs_soffice
async def test_the_attendance_sheet_starts_its_signature_table_on_the_first_page(client, rt, inbox, tmp_path):
    people = await _network(rt)
    for n, name in enumerate(("France Services de Montclair", "CAF du Loiret – accueil de Montclair")):
        structure = await make_structure(name, "ASSO")
        await make_person(rt, f"personne{n}@exemple.fr", {structure: ["manager"]})
    coordinator = await _actor(people["coordinator"])
    earlier = await service.create_event(rt, coordinator, _command(rt.today() - dt.timedelta(days=60)))
    await service.add_action(rt, coordinator, earlier, ActionCommand("action", "Recenser", people["a"], rt.today()))
    agenda = ("Accueil et tour de table", "Le bilan du semestre : présentation du dossier", "Les indicateurs")
    event_id = await service.create_event(rt, coordinator, _command(rt.today() + dt.timedelta(days=3), agenda=agenda))
    assert await rsvp.invite(rt, coordinator, event_id) == 4
    await sign_in(client, people["coordinator"])
    pdf = tmp_path / "feuille.pdf"
    pdf.write_bytes((await client.get(f"/reunions/{event_id}/feuille.pdf")).content)
    first, *_ = [page for page in _pdf_text(pdf).split("\f") if page.strip()]
    assert "Suivi des actions encore ouvertes : 1" in first  # the agenda's four points
    assert re.search(r"Structure +Nom +Réponse +Signature", first), "the signature table waits for page 2"
    assert "Les personnes invitées : 4" in first


async def test_an_absurd_indicator_value_comes_back_beside_its_field(client: httpx.AsyncClient, rt):
    """A number spaced the French way fits the field's maxlength; one character more, or a number past a
    billion, is said beside its field with every value kept; a period too long, beside the period."""
    people = await _network(rt)
    indicator = await indicators.define(
        rt, await _actor(people["coordinator"]), IndicatorCommand("Inscrits", "Personnes inscrites.", "", "integer")
    )
    name = indicators.field_name(indicator)
    await sign_in(client, people["lea"])
    path = f"/reunions/indicateurs/{people['a']}"
    page = (await client.get(path)).text
    assert f'maxlength="{indicators.MAX_VALUE_CHARS}"' in page and f'maxlength="{indicators.MAX_PERIOD}"' in page
    period = str(rt.today().year - 1)
    saved = await post_form(client, path, {"period": period, name: "1 000 000 000"})
    assert saved.status_code == 200 and "Valeurs enregistrées : 1." in saved.text
    for typed, said in (("1 000 000 001", "un milliard au plus"), ("7" * (indicators.MAX_VALUE_CHARS + 1), "18 ")):
        response = await post_form(client, path, {"period": period, name: typed})
        assert response.status_code == 400 and said in _error_of(response.text, name), typed
        assert f'value="{typed}"' in response.text
    too_long = await post_form(client, path, {"period": "7" * (indicators.MAX_PERIOD + 1), name: "12"})
    assert too_long.status_code == 400 and "20 caractères au plus" in _error_of(too_long.text, "period")
    assert 'value="12"' in too_long.text


async def test_a_tab_pasted_into_a_title_is_saved_as_a_space(client: httpx.AsyncClient, rt):
    """A title copied from a spreadsheet carries a tab: the event is created with a space there (hub.forms tidies
    one-line values before the form reads them), while the agenda, a text area, is left as typed (its points are trimmed by the service)."""
    people = await _network(rt)
    await sign_in(client, people["coordinator"])
    form = {
        "kind": "meeting",
        "title": "Réunion du réseau\tjuin",
        "day": (rt.today() + dt.timedelta(days=10)).isoformat(),
        "start_time": "14:00",
        "end_time": "16:00",
        "place": "Salle\tpolyvalente",
        "agenda": "Accueil\n\tTour de table",
        "audience": "all",
    }
    response = await post_form(client, "/reunions/nouvelle", form)
    assert response.status_code == 200 and "Événement créé" in response.text, response.text[:500]
    event = await MeetingEvent.select().order_by(MeetingEvent.id, ascending=False).first()
    assert event is not None
    assert event["title"] == "Réunion du réseau juin" and event["place"] == "Salle polyvalente"
    agenda = (await service.event_row(event["id"]))["agenda"]
    assert (json.loads(agenda) if isinstance(agenda, str) else agenda) == ["Accueil", "Tour de table"]  # trimmed
