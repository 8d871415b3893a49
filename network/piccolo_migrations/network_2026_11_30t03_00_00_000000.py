"""maillage_prefix(word), replaced: its French stem matched exactly (hand-written, PostgreSQL only).

A word is searched as a prefix of the document's plain words, and as its French stem among the document's
stems: exactly, since the document holds the stem of each of its words ("sociaux" finds "sociale" through
"social"), whereas a stem taken as a prefix finds unrelated words ("informat" is not "information").
When the stem starts with the word, the prefix already finds it: one term instead of two.
The word is one of the search box's words (network.search.text.words_of): letters and digits, never empty,
so its plain form always exists; its stem does not for a French stop word.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

from network.piccolo_migrations import network_2026_11_30t02_00_00_000000 as PREVIOUS

ID = "2026-11-30T03:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "a searched word's stem matched exactly"

FORWARDS = [
    """CREATE OR REPLACE FUNCTION maillage_prefix(word text) RETURNS tsquery
       LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
       SELECT CASE
           WHEN f IS NULL OR starts_with(f, s) THEN format('%s:*', quote_literal(s))::tsquery
           ELSE format('%s:* | %s', quote_literal(s), quote_literal(f))::tsquery
       END
       FROM (SELECT (SELECT min(lexeme) FROM unnest(to_tsvector('maillage_simple', word))) AS s,
                    (SELECT min(lexeme) FROM unnest(to_tsvector('maillage_french', word))) AS f) AS forms
       $$""",
]
# back to the previous migration's body (the stem as a prefix too), over the function this one replaced
BACKWARDS = [statement.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1) for statement in PREVIOUS.FORWARDS]


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
