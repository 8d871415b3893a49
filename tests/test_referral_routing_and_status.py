"""Referrals: whom to call when the service has no line of its own, typed words that rank rather
than exclude, the resident's page after a refusal, the slots page's wide table and its default day, the slip on one
page, the refuse form's error summary in page order, and the prescriber's landing inbox."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import httpx
import pytest

from hub import accounts
from hub.documents import find_soffice
from hub.runtime import Runtime
from hub.settings import PROJECT_ROOT
from referrals import routing, service, slip, slots
from referrals.schemas import RouteRequest, Transition
from tests.conftest import make_service, make_structure, sign_in
from tests.test_referral_pages import DEMARCHES, build, post, send_directly, switch_to
from tests.test_referral_slip import pdf_text


async def _referral_without_service_phone(rt: Runtime) -> tuple[int, accounts.Actor]:
    """A referral to a service without a line of its own, whose structure (the CCAS) has one: 02 38 00 00 01."""
    net = await build(rt)
    service_id = await make_service(net.ccas, "Écrivain public", thematiques=[DEMARCHES], accepts_referrals=True)
    referral_id = await send_directly(rt, net, service_id, "Écrire un courrier")
    return referral_id, await accounts.actor_for_user(net.prescriber.id)


# ---------------------------------------------------------------- 1. whom to call
async def test_the_service_own_line_comes_first(rt: Runtime) -> None:
    net = await build(rt)
    referral_id = await send_directly(rt, net)
    actor = await accounts.actor_for_user(net.prescriber.id)
    context = await slip.context_of(rt, actor, referral_id)
    assert context["phone"] == "02\u00a038\u00a000\u00a000\u00a002"  # the service's, not the structure's


async def test_without_a_service_line_the_slip_and_the_page_give_the_structure_phone(
    client: httpx.AsyncClient, rt: Runtime
) -> None:
    referral_id, actor = await _referral_without_service_phone(rt)
    context = await slip.context_of(rt, actor, referral_id)
    assert context["phone"] == "02\u00a038\u00a000\u00a000\u00a001"
    _, code = await service.read_with_code(actor, referral_id)
    page = await client.get(f"/suivi/{code}")
    assert "Qui appeler" in page.text and "02 38 00 00 01" in page.text


# ---------------------------------------------------------------- 2. typed words rank, they do not exclude
async def test_typed_words_rank_the_services_of_the_need_and_say_which_matched(rt: Runtime) -> None:
    place = make_structure  # the services need a structure each
    caf = await place("Point numérique CAF", "CAF")
    cs = await place("Centre social de la Roseraie", "CS")
    fs = await place("France Services de Montclair", "RFS")
    await make_service(caf, "Point numérique CAF", thematiques=[DEMARCHES], accepts_referrals=True,
                       description="Déclarer ses ressources trimestrielles en ligne.")  # fmt: skip
    await make_service(cs, "Aide aux démarches en ligne", thematiques=[DEMARCHES], accepts_referrals=True,
                       description="Aide pour créer un compte et un mot de passe.")  # fmt: skip
    ameli = await make_service(fs, "Accompagnement France Services", thematiques=[DEMARCHES], accepts_referrals=True,
                               description="Ameli, CAF, impôts : créer son compte Ameli, déclarer ses ressources.")  # fmt: skip
    await make_service(cs, "Atelier tricot", thematiques=[DEMARCHES], accepts_referrals=True)

    request = RouteRequest(thematiques=[DEMARCHES], text="Créer son compte Ameli et déclarer ses ressources")
    result = await routing.route(rt, request)
    names = [c.service_name for c in result.candidates]
    assert len(names) == 4  # none is left out for lacking a word
    assert result.candidates[0].service_id == ameli  # the most words matched, first
    assert names[-1] == "Atelier tricot"  # no word: last
    best = result.candidates[0].reasons[0]
    assert best.startswith("mots trouvés : ") and "« Ameli »" in best and "« déclarer »" in best
    assert "« son »" not in best and "« et »" not in best  # words the search ignores are not named
    assert not any(r.startswith("mot") for r in result.candidates[-1].reasons)
    assert await routing.route(rt, request) == result  # the same request, the same order

    # words alone are the need: what matches none of them is not a candidate
    alone = await routing.route(rt, RouteRequest(text="Créer son compte Ameli et déclarer ses ressources"))
    assert "Atelier tricot" not in [c.service_name for c in alone.candidates]


# ---------------------------------------------------------------- 3. the resident's page after a refusal
@pytest.mark.parametrize("action", ["refuse", "cancel"])
async def test_after_a_refusal_or_a_cancellation_the_page_says_what_to_do_not_where_to_go(
    client: httpx.AsyncClient, rt: Runtime, action: str
) -> None:
    net = await build(rt)
    referral_id = await send_directly(rt, net)
    who = net.receiver if action == "refuse" else net.prescriber
    actor = await accounts.actor_for_user(who.id)
    await service.transition(rt, actor, referral_id, Transition(action=action, reason="full"))  # type: ignore[arg-type]
    _, code = await service.read_with_code(actor, referral_id)
    page = await client.get(f"/suivi/{code}")
    assert page.status_code == 200
    assert "Où aller" not in page.text and "Quand y aller" not in page.text and "Qui appeler" not in page.text
    assert "5 rue des Lilas" not in page.text and "02 38 00 00 02" not in page.text
    assert "Que faire maintenant ?" in page.text
    assert "N&#39;allez pas à ce service pour cette demande." in page.text
    assert "Retournez voir la personne qui vous a orienté." in page.text
    assert page.text.count("Retournez voir") == 1
    assert "Elle fait partie de : CAF du Loiret." in page.text


# ---------------------------------------------------------------- 4 and 6. the slots page
async def test_the_slots_page_scrolls_its_wide_tables_and_opens_on_the_next_day_with_appointments(
    client: httpx.AsyncClient, rt: Runtime
) -> None:
    net = await build(rt)
    receiver = await accounts.actor_for_user(net.receiver.id)
    command = slots.ScheduleCreate(service_id=net.service_id, weekday=3, start_time="14:00", end_time="15:00")
    await slots.publish(rt, receiver, command)
    first = (await slots.free_slots([net.service_id], rt.now()))[net.service_id][0]
    await send_directly(rt, net, schedule_id=first.schedule_id, starts_at=first.starts_at)
    day = first.starts_at.astimezone(slots.PARIS).date()
    assert day != rt.today()

    await switch_to(client, net.receiver)
    page = await client.get("/orientations/creneaux")
    assert f"Rendez-vous du {slots.when_in_french_day(day)}" in page.text  # not today's empty list
    assert f'value="{day.isoformat()}"' in page.text and "Awa Diallo" in page.text
    for title in ("chaque-semaine", "rendez-vous-titre"):
        region = f'<div class="table-scroll" role="region" aria-labelledby="{title}" tabindex="0">'
        assert region in page.text and f'<caption id="{title}">' in page.text
    asked = await client.get(f"/orientations/creneaux?jour={rt.today().isoformat()}")
    assert "Aucun rendez-vous ce jour-là." in asked.text  # a day asked is kept


# ---------------------------------------------------------------- 5. the slip on one page
@pytest.mark.skipif(find_soffice() is None, reason="LibreOffice absent : scripts/install-libreoffice")
async def test_a_full_slip_fits_one_page(rt: Runtime, tmp_path: Path) -> None:
    """The demo's fullest slip: a service open on two ranges a day and on Saturdays, four things to bring."""
    net = await build(rt)
    hours = "Mo-Fr 09:00-12:30,13:30-17:30; Sa 09:00-12:00; PH off"
    service_id = await make_service(
        net.ccas,
        "Accompagnement France Services",
        thematiques=["difficultes-administratives-ou-juridiques--accompagnement-aux-demarches-administratives"],
        accepts_referrals=True,
        places=[
            {
                "name": "France Services de Montclair",
                "address": "8 avenue des Tilleuls",
                "postal_code": "45990",
                "commune": "Montclair-sur-Loire",
                "opening_hours": hours,
            }
        ],
    )
    actor = await accounts.actor_for_user(net.prescriber.id)
    referral_id = await send_directly(
        rt,
        net,
        service_id,
        "Dossier de retraite",
        thematiques=["difficultes-administratives-ou-juridiques--accompagnement-aux-demarches-administratives"],
    )
    context = await slip.context_of(rt, actor, referral_id)
    assert len(context["hours"]) == 4 and len(context["hours_notes"]) == 2 and len(context["bring"]) == 4
    (tmp_path / "fiche.pdf").write_bytes(await slip.slip_pdf(rt, actor, referral_id))
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "pdftotext absent : scripts/install-libreoffice installe poppler-utils"
    text = pdf_text(pdftotext, tmp_path / "fiche.pdf")
    assert text.count("\f") == 1 and "Page 1 sur 1" in text, text  # pdftotext ends each page with a form feed


# ---------------------------------------------------------------- 6. polish
def test_the_cancelled_badge_has_a_background() -> None:
    css = (PROJECT_ROOT / "static" / "css" / "referrals.css").read_text()
    rules = re.findall(r"([^{}]+)\{([^}]*)\}", css)
    badge = [body for selectors, body in rules if ".status-cancelled" in [s.strip() for s in selectors.split(",")]]
    assert badge and "background" in badge[0]  # the inbox's and the page's badge, not only the resident's box


async def test_the_refuse_summary_lists_the_errors_in_page_order(client: httpx.AsyncClient, rt: Runtime) -> None:
    net = await build(rt)
    referral_id = await send_directly(rt, net)
    await sign_in(client, net.receiver)
    await client.get(f"/orientations/{referral_id}")
    response = await post(client, f"/orientations/{referral_id}/action", {"action": "refuse", "message": "y" * 1001})
    assert response.status_code == 400
    summary = response.text.split("L'action n'est pas faite", 1)[1].split("</ul>", 1)[0]
    assert summary.index("#refuse-reason") < summary.index("#refuse-message")


async def test_a_prescriber_whose_structures_only_send_lands_on_the_sent_ones(
    client: httpx.AsyncClient, rt: Runtime
) -> None:
    net = await build(rt)
    await send_directly(rt, net)
    await sign_in(client, net.prescriber)
    inbox = await client.get("/orientations")
    assert '<a href="/orientations?boite=envoyees" aria-current="page">' in inbox.text
    assert "Aide aux démarches en ligne" in inbox.text
    await switch_to(client, net.receiver)  # the CCAS receives: its inbox first
    inbox = await client.get("/orientations")
    assert '<a href="/orientations?boite=recues" aria-current="page">' in inbox.text
