"""Sign-in hardening: one locked counter row per throttling key; API tokens remember their second factor.

Existing tokens are not known to have been created behind a second factor: they keep working for accounts
whose roles need none, and stop for the others (their owners create new ones after signing in with 2FA).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Boolean, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-29T15:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "sign-in throttle counters; tokens backed by a second factor"


def _params(default, *, unique=False, length=None):
    params = {
        "default": default,
        "null": False,
        "primary_key": False,
        "unique": unique,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
    }
    if length is not None:
        params["length"] = length
    return params


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="hub", description=DESCRIPTION)

    manager.add_table(class_name="SignInThrottle", tablename="hub_sign_in_throttle", schema=None, columns=None)
    for name, column_class, params in (
        ("key_hash", Varchar, _params("", unique=True, length=64)),
        ("failures", Integer, _params(0)),
        ("window_start", Timestamptz, _params(TimestamptzNow())),
        ("last_failure_at", Timestamptz, _params(TimestamptzNow())),
    ):
        manager.add_column(
            table_class_name="SignInThrottle",
            tablename="hub_sign_in_throttle",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=params,
            schema=None,
        )

    for name, column_class, params in (
        ("mfa_backed", Boolean, _params(False)),
        ("revoked_reason", Varchar, _params("", length=40)),
    ):
        manager.add_column(
            table_class_name="ApiToken",
            tablename="hub_api_token",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=params,
            schema=None,
        )
    return manager
