"""The domains' sections of the reporting pack, from a small handmade network whose figures are computed by
hand in the comments: the directory (members, newcomers, kinds, services per thématique, coverage and zones
blanches, freshness) and the referrals (sent, received, acceptance, median first answer, outcomes, expired,
slots booked and honoured), each beside the previous equal period (2026-S1 against 2025-S2)."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from hub.mandates import report as mandates_report
from hub.mandates.tables import Mandate, MandateScope, Resident, Revocation
from hub.reporting import Period
from hub.runtime import Runtime
from network import report as directory_report
from referrals import report as referrals_report
from referrals.tables import Booking, Referral, SlotSchedule
from tests.conftest import make_service, make_structure

UTC = dt.UTC
S1 = Period.parse("2026-S1")  # previous: 2025-S2, [2025-07-01, 2026-01-01)
NUM = "numerique--accompagner-les-demarches-de-sante"
NUM2 = "numerique--favoriser-mon-autonomie-numerique"
ADMIN = "difficultes-administratives-ou-juridiques--accompagner-les-demarches-administratives"


def at(year: int, month: int, day: int, hour: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=UTC)


async def handmade_network() -> dict[str, int]:
    """A (CS, Poitiers – Couronneries) member since 2025-03, confirmed 2026-05-01;
    B (CCAS, Poitiers) joined 2026-02, confirmed 2025-09-01; C (CS) closed; D (BIB, Lusignan) joins after S1;
    E (BIB, Lusignan, ~25 km away) member since 2025-01, never confirmed."""
    ids = {
        "a": await make_structure(
            "Centre social des Couronneries",
            "CS",
            commune="Poitiers",
            neighbourhood="Couronneries",
            latitude=46.5900,
            longitude=0.3600,
            created_at=at(2025, 3, 1),
            confirmed_on=dt.date(2026, 5, 1),
        ),
        "b": await make_structure(
            "CCAS de Poitiers",
            "CCAS",
            commune="Poitiers",
            latitude=46.5800,
            longitude=0.3400,
            created_at=at(2026, 2, 1),
            confirmed_on=dt.date(2025, 9, 1),
        ),
        "c": await make_structure(
            "Centre social fermé",
            "CS",
            commune="Poitiers",
            status="closed",
            latitude=46.58,
            longitude=0.35,
            created_at=at(2025, 10, 1),
        ),
        "d": await make_structure(
            "Médiathèque nouvelle",
            "BIB",
            commune="Lusignan",
            latitude=46.43,
            longitude=0.12,
            created_at=at(2026, 8, 1),
        ),
        "e": await make_structure(
            "Médiathèque de Lusignan",
            "BIB",
            commune="Lusignan",
            latitude=46.4350,
            longitude=0.1250,
            created_at=at(2025, 1, 15),
        ),
    }
    ids["sa"] = await make_service(ids["a"], "Aide numérique", thematiques=[NUM], created_at=at(2025, 6, 1))
    ids["sb"] = await make_service(ids["b"], "Aide administrative", thematiques=[ADMIN], created_at=at(2026, 3, 1))
    ids["se"] = await make_service(ids["e"], "Ateliers", thematiques=[NUM, NUM2], created_at=at(2025, 2, 1))
    await make_service(ids["c"], "Service d'une structure fermée", thematiques=[ADMIN], created_at=at(2025, 2, 1))
    await make_service(ids["d"], "Service futur", thematiques=[ADMIN], created_at=at(2026, 8, 2))
    return ids


async def test_directory_section_from_a_handmade_network(rt: Runtime):
    await handmade_network()
    section = await directory_report.report(rt, S1)
    values = {f.indicator.key: (f.value, f.previous) for f in section.figures}
    assert values["directory.members"] == (3, 2)  # A, B, E | A, E (B joined in February, C is closed)
    assert values["directory.newcomers"] == (1, 0)  # B | nobody joined in 2025-S2
    assert values["directory.services"] == (3, 2)  # sa, sb, se | sa, se
    assert values["directory.fresh_6"] == (1, 0)  # A (2026-05-01 after 2025-12-28) | B was not yet a member
    assert values["directory.fresh_12"] == (2, 0)  # A, B (2025-09-01)
    assert values["directory.fresh_6_rate"] == (33.3, 0.0)  # 1 ÷ 3 | 0 ÷ 2
    assert values["directory.white_zones"] == (1, None)  # Lusignan has no administrative help within 5 km
    tables = {t.key: t for t in section.tables}
    assert tables["structures_types"].rows == (
        ("Centre social", 1),
        ("Centre communal d'action sociale", 1),
        ("Médiathèque", 1),
    ) or dict(tables["structures_types"].rows) == {
        "Centre social": 1,
        "Centre communal d'action sociale": 1,
        "Médiathèque": 1,
    }
    themes = dict(tables["services_thematiques"].rows)
    assert themes == {"Numérique": 2, "Difficultés administratives ou juridiques": 1}  # se counts once
    coverage = {row[0]: row[1:] for row in tables["couverture"].rows}
    # (places within 5 km, families covered, families missing); A and B are 1.7 km apart, Lusignan 25 km away
    assert coverage == {"Poitiers": (2, 2, 0), "Poitiers – Couronneries": (2, 2, 0), "Lusignan": (1, 1, 1)}
    assert tables["zones_blanches"].rows == (("Lusignan", "Difficultés administratives ou juridiques"),)
    assert not tables["zones_blanches"].empty
    assert {row[0] for row in tables["carte_couverture"].rows} == set(coverage)
    assert section.order == 10 and not section.empty
    assert {i.key for i in section.indicators} >= {"directory.members", "directory.white_zones", "directory.kinds"}


async def test_directory_section_of_an_empty_directory_is_empty(rt: Runtime):
    section = await directory_report.report(rt, S1)
    assert section.empty
    assert all(t.empty for t in section.tables)


async def _referral(sender: int, receiver: int, created: dt.datetime, status: str, **values: Any) -> int:
    referral = Referral(
        code=secrets.token_hex(12),
        sender_structure=sender,
        receiver_structure=receiver,
        service_id=1,
        created_at=created,
        status=status,
        **values,
    )
    await referral.save()
    return int(referral.id)


async def test_referrals_section_from_handmade_referrals(rt: Runtime):
    ids = await handmade_network()
    a, b, e = ids["a"], ids["b"], ids["e"]
    # 2026-S1: A→B accepted (answered after 2 h, helped), A→B refused (4 h), B→A closed (10 h, no_show),
    # E→B expired, A→E sent (no answer), and B→E redirected from the refused one (counts as received only).
    r1 = await _referral(a, b, at(2026, 2, 1, 9), "accepted", first_answer_at=at(2026, 2, 1, 11), outcome="helped")
    refused = await _referral(a, b, at(2026, 3, 1, 9), "refused", first_answer_at=at(2026, 3, 1, 13))
    r3 = await _referral(b, a, at(2026, 4, 1, 9), "closed", first_answer_at=at(2026, 4, 1, 19), outcome="no_show")
    await _referral(e, b, at(2026, 5, 1, 9), "expired")
    await _referral(a, e, at(2026, 6, 29, 9), "sent")
    await _referral(b, e, at(2026, 3, 2, 9), "redirected", redirected_from=refused)
    # 2025-S2: one A→B accepted answered after 6 h; one in 2026-S2 that counts nowhere here
    await _referral(a, b, at(2025, 9, 1, 9), "accepted", first_answer_at=at(2025, 9, 1, 15))
    await _referral(a, b, at(2026, 7, 1, 9), "sent")
    schedule = SlotSchedule(service_id=1, structure=b, weekday=0, start_time="09:00", end_time="12:00")
    await schedule.save()
    for seat, (referral, released) in enumerate([(r1, None), (r3, None), (refused, at(2026, 3, 1, 13))]):
        await Booking(
            schedule=schedule.id,
            starts_at=at(2026, 6, 1, 9),
            seat=seat,
            referral=referral,
            created_at=at(2026, 2, 1, 10),
            released_at=released,
        ).save()

    section = await referrals_report.report(rt, S1)
    values = {f.indicator.key: (f.value, f.previous) for f in section.figures}
    assert values["referrals.sent"] == (5, 1)  # the redirected one is not a new sending
    assert values["referrals.received"] == (6, 1)
    # decided: accepted, refused, closed, redirected = 4; accepted or closed = 2 → 50 %; before 1 ÷ 1
    assert values["referrals.acceptance_rate"] == (50.0, 100.0)
    assert values["referrals.first_answer_hours"] == (4.0, 6.0)  # median of 2, 4, 10 | 6
    assert values["referrals.expired"] == (1, 0)
    assert values["referrals.slots_booked"] == (2, 0)  # the released one is not counted
    assert values["referrals.slots_honoured"] == (1, 0)  # helped came; no_show did not
    tables = {t.key: t for t in section.tables}
    assert dict(tables["orientations_resultats"].rows) == {
        "La personne a été aidée": 1,
        "La personne n'est pas venue": 1,
    }
    per = {row[0]: row[1:] for row in tables["orientations_structures"].rows}
    # (sent, received, accepted, expired)
    assert per["Centre social des Couronneries"] == (3, 1, 1, 0)
    assert per["CCAS de Poitiers"] == (1, 3, 1, 1)
    assert per["Médiathèque de Lusignan"] == (1, 2, 0, 0)
    flows = tables["orientations_flux"]
    assert flows.columns == ("Envoie \\ reçoit", "CCAS", "CS", "BIB")
    assert {row[0]: row[1:] for row in flows.rows} == {
        "Centre communal d'action sociale (CCAS)": (0, 1, 1),
        "Centre social (CS)": (2, 0, 1),
        "Médiathèque (BIB)": (1, 0, 0),
    }
    assert dict(tables["orientations_etats"].rows)["expirée"] == 1


async def test_median_of_an_even_count_is_the_mean_of_the_two_middle_answers(rt: Runtime):
    a = await make_structure("A", "CS")
    b = await make_structure("B", "CCAS")
    for hours in (1, 3, 8, 20):
        sent = at(2026, 2, hours, 9)
        await _referral(a, b, sent, "accepted", first_answer_at=sent + dt.timedelta(hours=hours))
    section = await referrals_report.report(rt, S1)
    values = {f.indicator.key: (f.value, f.previous) for f in section.figures}
    assert values["referrals.first_answer_hours"] == (5.5, None)  # (3 + 8) ÷ 2; nothing answered before


async def _mandate(
    structure: int,
    resident: int,
    n: int,
    finalised: dt.datetime | None,
    starts: dt.date,
    ends: dt.date,
    scopes: dict[str, dt.datetime | None],
    revoked: dt.datetime | None = None,
) -> int:
    mandate = Mandate(
        public_code=f"m{n}",
        structure=structure,
        resident=resident,
        duration_days=365,
        starts_on=starts,
        ends_on=ends,
        status="active" if finalised else "draft",
        finalised_at=finalised,
        revoked_at=revoked,
    )
    await mandate.save()
    for scope, scope_revoked in scopes.items():
        await MandateScope(
            mandate=mandate.id, scope=scope, status="revoked" if scope_revoked else "active", revoked_at=scope_revoked
        ).save()
        if scope_revoked:
            await Revocation(mandate=mandate.id, public_code=f"r{n}{scope}", created_at=scope_revoked).save()
    return int(mandate.id)


async def test_mandates_section_from_handmade_mandates(rt: Runtime):
    a = await make_structure("France Services", "RFS")
    resident = Resident(structure=a, first_name="Prénom", last_name="Nom")
    await resident.save()
    r = int(resident.id)
    d = dt.date
    # 1: finalised 2026-02, one year, "famille" revoked 2026-04 → created, active (logement still valid), revoked
    await _mandate(
        a, r, 1, at(2026, 2, 1), d(2026, 2, 1), d(2027, 1, 31), {"famille": at(2026, 4, 1), "logement": None}
    )
    # 2: finalised 2025-09 for 6 months: ended 2026-03 → created before, active at the end of 2025-S2 only
    await _mandate(a, r, 2, at(2025, 9, 1), d(2025, 9, 1), d(2026, 2, 28), {"social": None})
    # 3: a draft never finalised: counts nowhere
    await _mandate(a, r, 3, None, d(2026, 3, 1), d(2027, 2, 28), {"social": None})
    # 4: finalised 2026-05, wholly revoked 2026-06 → created and revoked, not active at the end
    await _mandate(
        a, r, 4, at(2026, 5, 1), d(2026, 5, 1), d(2027, 4, 30), {"papiers": at(2026, 6, 1)}, revoked=at(2026, 6, 1)
    )
    section = await mandates_report.report(rt, S1)
    values = {f.indicator.key: (f.value, f.previous) for f in section.figures}
    assert values["mandates.created"] == (2, 1)
    assert values["mandates.active"] == (1, 1)  # 1 | 2
    assert values["mandates.revoked"] == (2, 0)
    scopes = {row[0]: row[1:] for row in section.tables[0].rows}
    # (created, active at the end, revoked)
    assert scopes["Famille - Scolarité"] == (1, 0, 1)
    assert scopes["Logement"] == (1, 1, 0)
    assert scopes["Social - Santé"] == (0, 0, 0)  # mandate 2 ended in February; 3 is a draft
    assert scopes["Papiers - Citoyenneté - Élections"] == (1, 0, 1)
    assert section.order == 30
    module = next(m for m in rt.modules if m.name == "mandates")
    assert module.report is not None and (await module.report(rt, S1)).key == "mandates"
