"""Deferred indexing: writes that touch many services (imports) queue them, and they are indexed after commit.

The queue is the table network_search_pending. `enqueue` runs in the writer's transaction, so a committed
write always leaves its services queued; `drain` then indexes them a batch per transaction, removing each
batch from the queue in the same transaction. The write lock of a large import is held for the writing only
(on SQLite, a single writer at a time), and other writers get in between batches. A process that stops half
way leaves the rest queued: the jobs loop drains the queue on every tick.

Meanwhile the index lags: a new service is not yet found, an updated one is found as it was. A service that
closes leaves the index at once all the same (the index triggers), so a closed one never shows.
Indexing is idempotent (digests), so two processes draining at once only repeat work; on PostgreSQL each
batch is claimed with SKIP LOCKED, and its services are locked FOR SHARE so that an edit of one of them
waits for the batch (or the batch for the edit) instead of interleaving their tag rows.
"""

from __future__ import annotations

from collections.abc import Iterable

from hub.db import write_transaction
from network.search import sql
from network.search.index import DirectoryCache, IndexReport, reindex_batch, sync_tags_batch
from network.search.sql import BATCH


async def enqueue(service_ids: Iterable[int]) -> int:
    """Queue services for reindexing, in the caller's transaction; returns how many ids were given."""
    ids = sorted({int(i) for i in service_ids})
    for start in range(0, len(ids), BATCH * 10):
        part = ids[start : start + BATCH * 10]
        await sql.insert_rows(
            "INSERT INTO network_search_pending (service_id)",
            [(i,) for i in part],
            ("int",),
            tail="ON CONFLICT (service_id) DO NOTHING",
        )
    return len(ids)


async def drain(max_batches: int | None = None) -> IndexReport:
    """Index queued services (tags and index entries), a batch per transaction, until the queue is empty
    or `max_batches` were done."""
    report = IndexReport()
    batches = 0
    while max_batches is None or batches < max_batches:
        async with write_transaction():
            if sql.on_sqlite():
                claimed = await sql.fetch(
                    "SELECT service_id FROM network_search_pending ORDER BY service_id LIMIT ?", [BATCH]
                )
            else:
                claimed = await sql.fetch(
                    "SELECT service_id FROM network_search_pending ORDER BY service_id LIMIT ? FOR UPDATE SKIP LOCKED",
                    [BATCH],
                )
            ids = [int(row["service_id"]) for row in claimed]
            if not ids:
                break
            marks = sql.marks(len(ids))
            if not sql.on_sqlite():
                await sql.fetch(f"SELECT id FROM network_service WHERE id IN ({marks}) ORDER BY id FOR SHARE", ids)
            report.tags_written += await sync_tags_batch(ids)
            await reindex_batch(ids, report)
            await sql.execute(f"DELETE FROM network_search_pending WHERE service_id IN ({marks})", ids)
        batches += 1
    if batches:
        DirectoryCache.directory_changed()
    return report
