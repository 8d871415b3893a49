"""Referrals and their timeline (both engines; hand-written DDL in Piccolo's column types)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-29T15:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "referrals"


def _ddl(postgres: bool) -> list[str]:
    pk = "SERIAL PRIMARY KEY" if postgres else "INTEGER PRIMARY KEY NOT NULL"
    ts = "TIMESTAMPTZ"
    now = "DEFAULT current_timestamp"
    return [
        f"""CREATE TABLE referrals_referral (
            id {pk},
            code VARCHAR(32) NOT NULL UNIQUE,
            status VARCHAR(12) NOT NULL DEFAULT 'sent',
            version INTEGER NOT NULL DEFAULT 1,
            sender_structure INTEGER NOT NULL REFERENCES network_structure (id) ON DELETE RESTRICT,
            sender_user INTEGER REFERENCES hub_user (id) ON DELETE SET NULL,
            receiver_structure INTEGER NOT NULL REFERENCES network_structure (id) ON DELETE RESTRICT,
            service_id INTEGER NOT NULL,
            service_name VARCHAR(200) NOT NULL DEFAULT '',
            thematiques JSON NOT NULL DEFAULT '[]',
            need TEXT NOT NULL DEFAULT '',
            resident_name VARCHAR(120) NOT NULL DEFAULT '',
            resident_phone VARCHAR(20) NOT NULL DEFAULT '',
            resident_email VARCHAR(254) NOT NULL DEFAULT '',
            preferred_contact VARCHAR(10) NOT NULL DEFAULT 'phone',
            availability JSON NOT NULL DEFAULT '[]',
            note TEXT NOT NULL DEFAULT '',
            consent_method VARCHAR(10) NOT NULL DEFAULT '',
            consent_at {ts} DEFAULT NULL,
            refusal_reason VARCHAR(20) NOT NULL DEFAULT '',
            decision_message TEXT NOT NULL DEFAULT '',
            share_reason BOOLEAN NOT NULL DEFAULT false,
            outcome VARCHAR(20) NOT NULL DEFAULT '',
            redirected_from INTEGER DEFAULT NULL,
            redirected_to INTEGER DEFAULT NULL,
            idempotency_key VARCHAR(100) DEFAULT NULL,
            request_hash VARCHAR(64) NOT NULL DEFAULT '',
            created_at {ts} NOT NULL {now},
            updated_at {ts} NOT NULL {now},
            first_answer_at {ts} DEFAULT NULL,
            decided_at {ts} DEFAULT NULL,
            closed_at {ts} DEFAULT NULL,
            reminded_at {ts} DEFAULT NULL,
            escalated_at {ts} DEFAULT NULL,
            anonymised_at {ts} DEFAULT NULL
        )""",
        "CREATE INDEX referrals_referral_status ON referrals_referral (status, created_at)",
        "CREATE INDEX referrals_referral_sender ON referrals_referral (sender_structure, created_at)",
        "CREATE INDEX referrals_referral_receiver ON referrals_referral (receiver_structure, created_at)",
        "CREATE INDEX referrals_referral_service ON referrals_referral (service_id, created_at)",
        "CREATE INDEX referrals_referral_created ON referrals_referral (created_at)",
        "CREATE INDEX referrals_referral_redirected_from ON referrals_referral (redirected_from)",
        "CREATE UNIQUE INDEX referrals_referral_idempotency ON referrals_referral (sender_user, idempotency_key)",
        f"""CREATE TABLE referrals_event (
            id {pk},
            referral INTEGER NOT NULL REFERENCES referrals_referral (id) ON DELETE CASCADE,
            at {ts} NOT NULL {now},
            actor_user INTEGER DEFAULT NULL,
            actor_structure INTEGER DEFAULT NULL,
            action VARCHAR(20) NOT NULL DEFAULT '',
            from_status VARCHAR(12) NOT NULL DEFAULT '',
            to_status VARCHAR(12) NOT NULL DEFAULT '',
            details JSON NOT NULL DEFAULT '{{}}'
        )""",
        "CREATE INDEX referrals_event_referral ON referrals_event (referral)",
    ]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="referrals", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for sql in _ddl(engine.engine_type == "postgres"):
            await engine.run_ddl(sql)

    manager.add_raw(run)
    return manager
