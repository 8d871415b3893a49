"""Due work claimed with a lease: the outbox, the jobs and any table of due rows (reminders, expiries…).

A row is claimed by setting its `claimed_until`; a process that dies leaves a lease that runs out, and the
row is claimed again. On PostgreSQL, concurrent claimers skip each other's locked rows (SKIP LOCKED); on
SQLite the IMMEDIATE transaction serialises them. Failed work comes back after a growing delay.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from piccolo.columns import Column
from piccolo.columns.combination import Combinable
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

from hub.db import current_engine, write_transaction

MAX_BACKOFF = timedelta(hours=1)


async def claim(
    table: type[Table], due: Combinable, *, order_by: Column, limit: int, now: datetime, lease: timedelta
) -> list[dict[str, Any]]:
    """Claim up to `limit` rows matching `due` whose lease is free, for `lease`; returns them."""
    claimed_until = table._meta.get_column_by_name("claimed_until")
    row_id = table._meta.primary_key
    async with write_transaction():
        query = (
            table.select()
            .where(due)
            .where(claimed_until.is_null() | (claimed_until < now))
            .order_by(order_by)
            .limit(limit)
        )
        if isinstance(current_engine(), PostgresEngine):
            query = query.lock_rows("UPDATE", skip_locked=True)
        rows = await query
        if rows:
            await table.update({claimed_until: now + lease}).where(row_id.is_in([row["id"] for row in rows]))
    return rows


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min… up to an hour between two attempts."""
    return min(timedelta(seconds=30 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)
