"""The `maillage` command, run as a user runs it: migrations from empty, the demo, user creation."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pyotp
import pytest

from hub import demo
from hub.settings import Settings
from hub.tables import Membership, User
from network import demo as town
from network.tables import Structure
from tests.conftest import TEST_SECRET, post_form


def maillage(*args: str, database_url: str, var_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        **os.environ,
        "DATABASE_URL": database_url,
        "MAILLAGE_SECRET_KEY": TEST_SECRET,
        "MAILLAGE_VAR_DIR": str(var_dir),
        **env,
    }
    return subprocess.run(  # noqa: S603 (our own console script)
        [sys.executable, "-m", "hub.cli", *args], env=environ, capture_output=True, text=True, timeout=120
    )


async def test_migrate_runs_from_empty_and_is_idempotent(database_factory, tmp_path):
    if database_factory.kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    else:
        parts = urlsplit(database_factory.template)
        name = f"{parts.path.lstrip('/')}_{os.getpid()}_empty"
        admin = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")))
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
        url = urlunsplit(parts._replace(path=f"/{name}"))
    try:
        first = await asyncio.to_thread(maillage, "db", "migrate", database_url=url, var_dir=tmp_path)
        assert first.returncode == 0, first.stderr
        second = await asyncio.to_thread(maillage, "db", "migrate", database_url=url, var_dir=tmp_path)
        assert second.returncode == 0, second.stderr
        assert "No migrations need to be run" in second.stdout
    finally:
        if database_factory.kind != "sqlite":
            await database_factory.drop(url)


async def test_demo_seeds_once_and_refuses_production(database_url, tmp_path, app):
    first = await asyncio.to_thread(maillage, "demo", database_url=database_url, var_dir=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "35 structures" in first.stdout and demo.DEMO_PASSWORD in first.stdout
    desk = 2  # the coordination desk's pending join request and an imported look-alike to merge
    assert await Structure.count() == len(town.STRUCTURES) + desk and len(town.STRUCTURES) >= 30
    kinds = {row["kind"] for row in await Structure.select(Structure.kind)}
    assert {"CAF", "CCAS", "CS", "BIB", "RFS", "ASSO"} <= kinds
    again = await asyncio.to_thread(maillage, "demo", database_url=database_url, var_dir=tmp_path)
    assert again.returncode == 0
    accounts = [*demo.USERS, *demo.COLLEAGUES]
    assert await Structure.count() == len(town.STRUCTURES) + desk and await User.count() == len(accounts)
    assert await Membership.count() == sum(1 for user in accounts if user.structure and user.role) >= 25

    refused = await asyncio.to_thread(
        maillage, "demo", database_url=database_url, var_dir=tmp_path, MAILLAGE_ENV="production"
    )
    assert refused.returncode == 2 and "production" in refused.stderr


@pytest.mark.demo_town  # a clone of the demo town: the seed below finds it there
async def test_every_demo_role_can_sign_in(client, rt):
    await demo.seed(rt)
    secrets = await demo.totp_secrets(rt)
    for user in demo.USERS:
        client.cookies.clear()
        await client.get("/connexion")
        response = await post_form(client, "/connexion", {"email": user.email, "password": demo.DEMO_PASSWORD})
        if user.needs_totp:
            assert response.url.path == "/connexion/code", user.email
            response = await post_form(client, "/connexion/code", {"code": pyotp.TOTP(secrets[user.email]).now()})
        assert response.url.path == "/" and user.full_name in response.text, user.email
        await post_form(client, "/deconnexion")


async def test_user_create_refuses_a_weak_password(database_url, tmp_path, app):
    weak = await asyncio.to_thread(
        maillage,
        "user",
        "create",
        "chef@reseau.example.fr",
        "--name",
        "Chef Réseau",
        "--coordinator",
        database_url=database_url,
        var_dir=tmp_path,
        MAILLAGE_NEW_PASSWORD="court",
    )
    assert weak.returncode == 2 and "12 caractères" in weak.stderr
    ok = await asyncio.to_thread(
        maillage,
        "user",
        "create",
        "chef@reseau.example.fr",
        "--name",
        "Chef Réseau",
        "--coordinator",
        database_url=database_url,
        var_dir=tmp_path,
        MAILLAGE_NEW_PASSWORD="une phrase de passe solide",
    )
    assert ok.returncode == 0, ok.stderr
    assert (await User.select(User.is_coordinator).where(User.email == "chef@reseau.example.fr").first())[
        "is_coordinator"
    ]


def test_secret_key_is_generated_once_under_var(tmp_path):
    first = Settings.from_env({"MAILLAGE_VAR_DIR": str(tmp_path)})
    second = Settings.from_env({"MAILLAGE_VAR_DIR": str(tmp_path)})
    assert first.secret_key == second.secret_key and len(first.secret_key) >= 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert first.database_url == f"sqlite:///{tmp_path / 'maillage.sqlite3'}"
