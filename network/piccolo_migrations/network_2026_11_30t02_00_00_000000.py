"""maillage_prefix(word): a searched word as one PostgreSQL prefix query (hand-written, PostgreSQL only).

A word is searched as its plain form and as its French stem, each a prefix. When one of the two is a prefix
of the other, the shorter one alone finds everything the pair finds ("familial:*" covers "familiale:*"),
so the full-text index reads one term instead of two; both only when they part ("sociaux", "social").
The word is one of the search box's words (network.search.text.words_of): letters and digits, never empty,
so its plain form always exists; its stem does not for a French stop word.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-30T02:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one prefix query a searched word"

FORWARDS = [
    """CREATE FUNCTION maillage_prefix(word text) RETURNS tsquery
       LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
       SELECT CASE
           WHEN f IS NULL OR starts_with(f, s) THEN format('%s:*', quote_literal(s))::tsquery
           WHEN starts_with(s, f) THEN format('%s:*', quote_literal(f))::tsquery
           ELSE format('%s:* | %s:*', quote_literal(s), quote_literal(f))::tsquery
       END
       FROM (SELECT (SELECT min(lexeme) FROM unnest(to_tsvector('maillage_simple', word))) AS s,
                    (SELECT min(lexeme) FROM unnest(to_tsvector('maillage_french', word))) AS f) AS forms
       $$""",
]
BACKWARDS = ["DROP FUNCTION IF EXISTS maillage_prefix(text)"]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="network", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        if engine.engine_type != "sqlite":
            for sql in FORWARDS:
                await engine.run_ddl(sql)

    async def run_backwards():
        engine = engine_finder()
        if engine.engine_type != "sqlite":
            for sql in BACKWARDS:
                await engine.run_ddl(sql)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
