"""Referrals' section of the network's reporting pack (hub.reporting).

The definitions are those of referrals.figures (a referral counts in the period of its sending date); the
per-structure table and the flows between kinds of structures are its functions. The network's totals, the
outcomes, the median time to first answer and the slots are SQL aggregates here. Percentages follow the pack's
one rule (hub.reporting.percent: one decimal, 0 when nothing was decided). No resident's data is read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from piccolo.engine.postgres import PostgresEngine

from hub.db import current_engine
from hub.reporting import Figure, Indicator, Period, Section, Table, by_label, percent
from hub.tables import STRUCTURE_KINDS
from referrals import figures
from referrals.lifecycle import OUTCOMES, STATUSES
from referrals.tables import Referral

if TYPE_CHECKING:
    from hub.runtime import Runtime

SENT = Indicator(
    "referrals.sent",
    "Orientations envoyées",
    "Orientations envoyées pendant la période par une structure du réseau (une réorientation compte là où elle "
    "est allée, pas comme un nouvel envoi).",
)
RECEIVED = Indicator(
    "referrals.received",
    "Orientations reçues",
    "Orientations reçues pendant la période, réorientations comprises, comptées à leur date d'envoi.",
)
ACCEPTANCE = Indicator(
    "referrals.acceptance_rate",
    "Taux d'acceptation",
    "Orientations acceptées ou clôturées ÷ orientations décidées (acceptées, clôturées, refusées, réorientées) "
    "parmi celles envoyées pendant la période ; 0 quand rien n'a été décidé.",
    unit="%",
    is_count=False,
)
FIRST_ANSWER = Indicator(
    "referrals.first_answer_hours",
    "Délai médian de première réponse",
    "Médiane, sur les orientations de la période qui ont reçu une réponse, du temps entre l'envoi et le premier "
    "geste du service qui la reçoit, en heures.",
    unit="h",
    is_count=False,
)
EXPIRED = Indicator(
    "referrals.expired",
    "Orientations expirées",
    "Orientations envoyées pendant la période restées sans décision jusqu'à leur expiration.",
)
OUTCOMES_INDICATOR = Indicator(
    "referrals.outcomes",
    "Résultats des orientations",
    "Orientations envoyées pendant la période dont le service a noté le résultat, par résultat.",
)
STATUS_INDICATOR = Indicator(
    "referrals.statuses",
    "Orientations par état",
    "Orientations envoyées pendant la période, selon leur état aujourd'hui.",
)
BOOKED = Indicator(
    "referrals.slots_booked",
    "Créneaux réservés",
    "Créneaux de rendez-vous réservés pendant la période avec une orientation (réservations libérées exclues).",
)
HONOURED = Indicator(
    "referrals.slots_honoured",
    "Créneaux honorés",
    "Créneaux réservés pendant la période dont l'orientation a pour résultat « aidée » ou « accompagnement "
    "commencé » : la personne est venue.",
)
PER_STRUCTURE = Indicator(
    "referrals.per_structure",
    "Orientations par structure",
    "Pour chaque structure, orientations envoyées et reçues pendant la période, et son taux d'acceptation.",
)
FLOWS = Indicator(
    "referrals.flows",
    "Flux entre types de structures",
    "Orientations envoyées pendant la période, par type de la structure qui envoie (lignes) et de celle qui "
    "reçoit (colonnes).",
)

_IN_PERIOD = "f.created_at >= {} AND f.created_at < {}"
_DECIDED = ("accepted", "closed", "refused", "redirected")


async def _rows(sql: str, *args: Any) -> list[dict[str, Any]]:
    return [dict(row) for row in await Referral.raw(sql, *args)]


async def _median_first_answer_hours(period: Period) -> float | None:
    """The median in SQL (the middle row, or the mean of the two middle rows), in hours."""
    start, end = period.bounds()
    if isinstance(current_engine(), PostgresEngine):
        delay = "EXTRACT(EPOCH FROM (f.first_answer_at - f.created_at)) / 3600.0"
    else:
        delay = "(julianday(f.first_answer_at) - julianday(f.created_at)) * 24.0"
    where = f"{_IN_PERIOD} AND f.first_answer_at IS NOT NULL"
    total = (await _rows(f"SELECT COUNT(*) AS n FROM referrals_referral f WHERE {where}", start, end))[0]["n"]
    if not total:
        return None
    middle = await _rows(
        f"SELECT {delay} AS hours FROM referrals_referral f WHERE {where} ORDER BY hours LIMIT {{}} OFFSET {{}}",
        start,
        end,
        1 if total % 2 else 2,
        (total - 1) // 2,
    )
    values = [float(row["hours"]) for row in middle]
    return round(sum(values) / len(values), 1)


async def _totals(period: Period) -> dict[str, Any]:
    start, end = period.bounds()
    statuses = {
        row["status"]: int(row["n"])
        for row in await _rows(
            f"SELECT f.status AS status, COUNT(*) AS n FROM referrals_referral f WHERE {_IN_PERIOD} GROUP BY f.status",
            start,
            end,
        )
    }
    sent = await _rows(
        f"SELECT COUNT(*) AS n FROM referrals_referral f WHERE {_IN_PERIOD} AND f.redirected_from IS NULL", start, end
    )
    slots = await _rows(
        """SELECT COUNT(*) AS booked,
                   SUM(CASE WHEN f.outcome IN ('helped', 'followed') THEN 1 ELSE 0 END) AS honoured
            FROM referrals_booking b JOIN referrals_referral f ON f.id = b.referral
            WHERE b.created_at >= {} AND b.created_at < {} AND b.released_at IS NULL""",
        start,
        end,
    )
    accepted = statuses.get("accepted", 0) + statuses.get("closed", 0)
    decided = sum(statuses.get(code, 0) for code in _DECIDED)
    return {
        "statuses": statuses,
        "sent": int(sent[0]["n"]),
        "received": sum(statuses.values()),
        "acceptance": percent(accepted, decided),
        "expired": statuses.get("expired", 0),
        "median": await _median_first_answer_hours(period),
        "booked": int(slots[0]["booked"] or 0),
        "honoured": int(slots[0]["honoured"] or 0),
    }


async def _outcomes(period: Period) -> list[tuple[str, int]]:
    start, end = period.bounds()
    rows = await _rows(
        f"""SELECT f.outcome AS code, COUNT(*) AS n FROM referrals_referral f
            WHERE {_IN_PERIOD} AND f.outcome <> '' GROUP BY f.outcome""",
        start,
        end,
    )
    return [(row["code"], int(row["n"])) for row in rows]


async def _flow_matrix(period: Period) -> tuple[tuple[str, ...], tuple[tuple[Any, ...], ...]]:
    start, end = period.bounds()
    flows = await figures.flows(start, end)
    senders = sorted({f["sender_kind"] for f in flows}, key=lambda k: STRUCTURE_KINDS.get(k, k))
    receivers = sorted({f["receiver_kind"] for f in flows}, key=lambda k: STRUCTURE_KINDS.get(k, k))
    cells = {(f["sender_kind"], f["receiver_kind"]): int(f["count"]) for f in flows}
    # the receivers by their short code (the columns stay readable), the senders by their name and code
    columns = ("Envoie \\ reçoit", *receivers)
    rows = tuple((f"{STRUCTURE_KINDS.get(s, s)} ({s})", *(cells.get((s, r), 0) for r in receivers)) for s in senders)
    return columns, rows


async def report(rt: Runtime, period: Period) -> Section:
    """Referrals' section for the period, each figure beside the previous equal period."""
    now, before = await _totals(period), await _totals(period.previous())
    figures_ = (
        Figure(SENT, now["sent"], before["sent"]),
        Figure(RECEIVED, now["received"], before["received"]),
        Figure(ACCEPTANCE, now["acceptance"], before["acceptance"]),
        Figure(FIRST_ANSWER, now["median"], before["median"]),
        Figure(EXPIRED, now["expired"], before["expired"]),
        Figure(BOOKED, now["booked"], before["booked"]),
        Figure(HONOURED, now["honoured"], before["honoured"]),
    )
    start, end = period.bounds()
    per_structure = await figures.structure_figures(None, start, end, with_delays=False)
    structure_rows = tuple(
        (row["name"], row["sent"], row["received"], row["accepted"], row["expired"])
        for row in sorted(per_structure, key=lambda r: (-(r["sent"] + r["received"]), r["name"]))
    )
    columns, matrix = await _flow_matrix(period)
    statuses = tuple((label, now["statuses"].get(code, 0)) for code, label in STATUSES.items())
    tables = (
        Table(
            "orientations_structures",
            "Orientations envoyées et reçues par structure",
            ("Structure", "Envoyées", "Reçues", "Acceptées", "Expirées"),
            structure_rows,
            PER_STRUCTURE,
        ),
        Table("orientations_flux", "Flux entre types de structures", columns, matrix, FLOWS, chart=""),
        Table("orientations_etats", "Orientations par état", ("État", "Orientations"), statuses, STATUS_INDICATOR),
        Table(
            "orientations_resultats",
            "Résultats notés",
            ("Résultat", "Orientations"),
            by_label(await _outcomes(period), OUTCOMES),
            OUTCOMES_INDICATOR,
        ),
    )
    return Section(
        key="referrals",
        title="Orientations entre structures",
        figures=figures_,
        tables=tables,
        notes=(
            "Une orientation compte dans la période de sa date d'envoi, quel que soit son état aujourd'hui.",
            "Dans le tableau des flux, les colonnes nomment le type de structure qui reçoit par son sigle, "
            "donné entre parenthèses dans les lignes.",
        ),
        order=20,
    )
