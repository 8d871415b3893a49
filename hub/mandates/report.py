"""Mandates' section of the network's reporting pack (hub.reporting): created, active at the end of the period,
revoked, and the same per scope (démarche). SQL aggregates over the mandates' dates; no resident's data is read.

A mandate counts from its finalisation (sealed, valid): drafts and abandoned drafts are never counted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hub.mandates.tables import Mandate
from hub.mandates.vocabulary import SCOPES
from hub.reporting import Figure, Indicator, Period, Section, Table

if TYPE_CHECKING:
    from hub.runtime import Runtime

CREATED = Indicator(
    "mandates.created",
    "Mandats créés",
    "Mandats devenus valides (signés et scellés) pendant la période ; les projets non signés ne comptent pas.",
)
ACTIVE = Indicator(
    "mandates.active",
    "Mandats en cours à la fin de la période",
    "Mandats valides le dernier jour de la période : commencés, pas encore échus, ni révoqués avant cette date.",
)
REVOKED = Indicator(
    "mandates.revoked",
    "Mandats révoqués",
    "Mandats dont la personne a révoqué tout ou partie des démarches pendant la période (une révocation par "
    "mandat au plus).",
)
PER_SCOPE = Indicator(
    "mandates.per_scope",
    "Mandats par démarche",
    "Pour chaque famille de démarches : démarches des mandats créés pendant la période, démarches en cours à la "
    "fin de la période, démarches révoquées pendant la période.",
)

# A mandate valid on the period's last day: finalised before its end, started, not ended, not revoked before.
_ACTIVE_AT_END = """m.finalised_at IS NOT NULL AND m.finalised_at < {} AND m.starts_on <= {} AND m.ends_on >= {}
    AND (m.revoked_at IS NULL OR m.revoked_at >= {})"""


async def _rows(sql: str, *args: Any) -> list[dict[str, Any]]:
    return [dict(row) for row in await Mandate.raw(sql, *args)]


async def _totals(period: Period) -> dict[str, int]:
    start, end = period.bounds()
    created = await _rows(
        "SELECT COUNT(*) AS n FROM mandates_mandate m WHERE m.finalised_at >= {} AND m.finalised_at < {}", start, end
    )
    active = await _rows(
        f"SELECT COUNT(*) AS n FROM mandates_mandate m WHERE {_ACTIVE_AT_END}", end, period.end, period.end, end
    )
    revoked = await _rows(
        "SELECT COUNT(DISTINCT r.mandate) AS n FROM mandates_revocation r WHERE r.created_at >= {} AND r.created_at < {}",
        start,
        end,
    )
    return {"created": int(created[0]["n"]), "active": int(active[0]["n"]), "revoked": int(revoked[0]["n"])}


async def _per_scope(period: Period) -> tuple[tuple[Any, ...], ...]:
    start, end = period.bounds()
    rows = await _rows(
        f"""SELECT s.scope AS scope,
               SUM(CASE WHEN m.finalised_at >= {{}} AND m.finalised_at < {{}} THEN 1 ELSE 0 END) AS created,
               SUM(CASE WHEN {_ACTIVE_AT_END} AND (s.revoked_at IS NULL OR s.revoked_at >= {{}}) THEN 1 ELSE 0 END)
                   AS active,
               SUM(CASE WHEN s.revoked_at >= {{}} AND s.revoked_at < {{}} THEN 1 ELSE 0 END) AS revoked
            FROM mandates_scope s JOIN mandates_mandate m ON m.id = s.mandate
            WHERE m.finalised_at IS NOT NULL
            GROUP BY s.scope""",
        start,
        end,
        end,
        period.end,
        period.end,
        end,
        end,
        start,
        end,
    )
    found = {row["scope"]: row for row in rows}
    return tuple(
        (
            scope.label,
            int(found.get(scope.code, {}).get("created") or 0),
            int(found.get(scope.code, {}).get("active") or 0),
            int(found.get(scope.code, {}).get("revoked") or 0),
        )
        for scope in SCOPES
    )


async def report(rt: Runtime, period: Period) -> Section:
    """Mandates' section for the period, each figure beside the previous equal period."""
    now, before = await _totals(period), await _totals(period.previous())
    return Section(
        key="mandates",
        title="Mandats d'aidants",
        figures=(
            Figure(CREATED, now["created"], before["created"]),
            Figure(ACTIVE, now["active"], before["active"]),
            Figure(REVOKED, now["revoked"], before["revoked"]),
        ),
        tables=(
            Table(
                "mandats_demarches",
                "Mandats par famille de démarches",
                ("Démarches", "Créées", "En cours à la fin", "Révoquées"),
                await _per_scope(period),
                PER_SCOPE,
            ),
        ),
        notes=("Un mandat compte à partir du moment où il est signé et scellé par le hub.",),
        order=30,
    )
