"""Mandates: residents, habilitations, charter acceptances, mandates and their scopes, revocations, timeline,
structures' template variants (both engines; hand-written DDL in Piccolo's column types)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-29T18:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "mandates"


def _ddl(postgres: bool) -> list[str]:
    pk = "SERIAL PRIMARY KEY" if postgres else "INTEGER PRIMARY KEY NOT NULL"
    blob = "BYTEA" if postgres else "BLOB"
    ts = "TIMESTAMPTZ"
    now = "DEFAULT current_timestamp"
    return [
        f"""CREATE TABLE mandates_resident (
            id {pk},
            structure INTEGER NOT NULL REFERENCES network_structure (id) ON DELETE CASCADE,
            first_name VARCHAR(80) NOT NULL DEFAULT '',
            last_name VARCHAR(80) NOT NULL DEFAULT '',
            birth_date DATE DEFAULT NULL,
            phone VARCHAR(20) NOT NULL DEFAULT '',
            email VARCHAR(254) NOT NULL DEFAULT '',
            created_at {ts} NOT NULL {now}
        )""",
        "CREATE INDEX mandates_resident_structure ON mandates_resident (structure, last_name)",
        f"""CREATE TABLE mandates_habilitation (
            id {pk},
            "user" INTEGER NOT NULL REFERENCES hub_user (id) ON DELETE CASCADE,
            structure INTEGER NOT NULL REFERENCES network_structure (id) ON DELETE CASCADE,
            granted_by INTEGER DEFAULT NULL,
            granted_at {ts} NOT NULL {now},
            withdrawn_at {ts} DEFAULT NULL,
            withdrawn_by INTEGER DEFAULT NULL
        )""",
        "CREATE INDEX mandates_habilitation_user ON mandates_habilitation (\"user\")",
        "CREATE INDEX mandates_habilitation_structure ON mandates_habilitation (structure)",
        # one live habilitation per aidant and structure: the database refuses a second
        'CREATE UNIQUE INDEX mandates_habilitation_live ON mandates_habilitation ("user", structure) '
        "WHERE withdrawn_at IS NULL",
        f"""CREATE TABLE mandates_charter (
            id {pk},
            "user" INTEGER NOT NULL REFERENCES hub_user (id) ON DELETE CASCADE,
            version VARCHAR(20) NOT NULL,
            at {ts} NOT NULL {now}
        )""",
        'CREATE UNIQUE INDEX mandates_charter_user_version ON mandates_charter ("user", version)',
        f"""CREATE TABLE mandates_mandate (
            id {pk},
            public_code VARCHAR(40) NOT NULL UNIQUE,
            number VARCHAR(20) NOT NULL DEFAULT '',
            structure INTEGER NOT NULL REFERENCES network_structure (id) ON DELETE RESTRICT,
            resident INTEGER NOT NULL REFERENCES mandates_resident (id) ON DELETE RESTRICT,
            created_by INTEGER DEFAULT NULL,
            renewal_of INTEGER DEFAULT NULL,
            duration_days INTEGER NOT NULL,
            starts_on DATE NOT NULL,
            ends_on DATE NOT NULL,
            status VARCHAR(12) NOT NULL DEFAULT 'draft',
            no_legal_protection BOOLEAN NOT NULL DEFAULT false,
            place VARCHAR(120) NOT NULL DEFAULT '',
            template_kind VARCHAR(20) NOT NULL DEFAULT 'mandat',
            template_version VARCHAR(40) NOT NULL DEFAULT '',
            template_sha256 VARCHAR(64) NOT NULL DEFAULT '',
            fingerprint VARCHAR(64) NOT NULL DEFAULT '',
            resident_signature {blob} DEFAULT NULL,
            aidant_signature {blob} DEFAULT NULL,
            signing_mode VARCHAR(10) NOT NULL DEFAULT '',
            scan_sha256 VARCHAR(64) NOT NULL DEFAULT '',
            scan_bytes {blob} DEFAULT NULL,
            scan_type VARCHAR(40) NOT NULL DEFAULT '',
            sealed_pdf {blob} DEFAULT NULL,
            sealed_sha256 VARCHAR(64) NOT NULL DEFAULT '',
            created_at {ts} NOT NULL {now},
            updated_at {ts} NOT NULL {now},
            signed_at {ts} DEFAULT NULL,
            finalised_at {ts} DEFAULT NULL,
            revoked_at {ts} DEFAULT NULL,
            expired_at {ts} DEFAULT NULL,
            reminded_at {ts} DEFAULT NULL,
            version INTEGER NOT NULL DEFAULT 1
        )""",
        "CREATE UNIQUE INDEX mandates_mandate_number ON mandates_mandate (number) WHERE number <> ''",
        "CREATE INDEX mandates_mandate_structure ON mandates_mandate (structure, status, ends_on)",
        "CREATE INDEX mandates_mandate_resident ON mandates_mandate (resident)",
        "CREATE INDEX mandates_mandate_status ON mandates_mandate (status, ends_on)",
        "CREATE INDEX mandates_mandate_sealed ON mandates_mandate (sealed_sha256)",
        f"""CREATE TABLE mandates_revocation (
            id {pk},
            mandate INTEGER NOT NULL REFERENCES mandates_mandate (id) ON DELETE CASCADE,
            number VARCHAR(20) NOT NULL DEFAULT '',
            public_code VARCHAR(40) NOT NULL UNIQUE,
            scopes JSON NOT NULL DEFAULT '[]',
            whole BOOLEAN NOT NULL DEFAULT false,
            reason VARCHAR(20) NOT NULL DEFAULT 'resident',
            created_by INTEGER DEFAULT NULL,
            created_at {ts} NOT NULL {now},
            sealed_pdf {blob} DEFAULT NULL,
            sealed_sha256 VARCHAR(64) NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX mandates_revocation_mandate ON mandates_revocation (mandate)",
        "CREATE INDEX mandates_revocation_sealed ON mandates_revocation (sealed_sha256)",
        f"""CREATE TABLE mandates_scope (
            id {pk},
            mandate INTEGER NOT NULL REFERENCES mandates_mandate (id) ON DELETE CASCADE,
            scope VARCHAR(20) NOT NULL,
            status VARCHAR(10) NOT NULL DEFAULT 'active',
            revoked_at {ts} DEFAULT NULL,
            revocation INTEGER DEFAULT NULL REFERENCES mandates_revocation (id) ON DELETE SET NULL,
            replaced_by INTEGER DEFAULT NULL
        )""",
        "CREATE UNIQUE INDEX mandates_scope_mandate ON mandates_scope (mandate, scope)",
        "CREATE INDEX mandates_scope_revocation ON mandates_scope (revocation)",
        f"""CREATE TABLE mandates_event (
            id {pk},
            mandate INTEGER NOT NULL REFERENCES mandates_mandate (id) ON DELETE CASCADE,
            at {ts} NOT NULL {now},
            actor_user INTEGER DEFAULT NULL,
            action VARCHAR(20) NOT NULL DEFAULT '',
            details JSON NOT NULL DEFAULT '{{}}'
        )""",
        "CREATE INDEX mandates_event_mandate ON mandates_event (mandate)",
        f"""CREATE TABLE mandates_variant (
            id {pk},
            structure INTEGER NOT NULL REFERENCES network_structure (id) ON DELETE CASCADE,
            kind VARCHAR(20) NOT NULL,
            filename VARCHAR(200) NOT NULL DEFAULT '',
            data {blob} NOT NULL,
            sha256 VARCHAR(64) NOT NULL,
            uploaded_by INTEGER DEFAULT NULL,
            uploaded_at {ts} NOT NULL {now},
            proofread_by VARCHAR(120) NOT NULL DEFAULT '',
            proofread_at {ts} DEFAULT NULL,
            active BOOLEAN NOT NULL DEFAULT false,
            falc_report TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX mandates_variant_structure ON mandates_variant (structure, kind)",
        # one active variant per structure and kind
        "CREATE UNIQUE INDEX mandates_variant_active ON mandates_variant (structure, kind) WHERE active",
    ]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="mandates", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for sql in _ddl(engine.engine_type == "postgres"):
            await engine.run_ddl(sql)

    manager.add_raw(run)
    return manager
