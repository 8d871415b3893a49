"""Test harness: real engines (a SQLite file, or PostgreSQL when DATABASE_URL says so), a real SMTP server.

Each test gets its own database cloned from one migrated template: a file copy on SQLite,
CREATE DATABASE … TEMPLATE on PostgreSQL. Nothing of ours is mocked.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import dataclasses
import itertools
import json
import os
import queue
import re
import shutil
import socket
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pyotp
import pytest
from aiosmtpd.controller import Controller
from litestar import Litestar

from hub import accounts, db
from hub.app import create_app
from hub.probes import PASSWORD
from hub.runtime import Runtime
from hub.settings import Settings
from hub.tables import Membership, User
from network.exchange.rows import DI_LIST_FIELDS, split_list
from network.search import index as search_index
from network.tables import Place, Service, Structure

TEST_SECRET = "test-secret-key-for-the-suite-only"
_counter = itertools.count(1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------- SMTP (aiosmtpd on loopback)
class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]

    def link(self, message: Message, path_prefix: str) -> str:
        body = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
        match = re.search(rf"https?://[^\s]+({re.escape(path_prefix)}[^\s]+)", body)
        assert match, f"no {path_prefix} link in the mail"
        return match.group(1)


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def inbox(smtp_server: SmtpServer) -> Inbox:
    smtp_server.inbox.messages.clear()
    return smtp_server.inbox


# ---------------------------------------------------------------- databases
@dataclasses.dataclass
class DatabaseFactory:
    """Clones the migrated template for each test (or the demo-seeded one, for tests about the demo town)."""

    kind: str  # "sqlite" | "postgres"
    template: str  # a file path, or the template database's URL
    workdir: Path
    demo_template: str = ""  # the same, with hub.demo.seed run on it: built on first use (see clone_demo)
    demo_var_dir: Path | None = None  # what that seed left on disk: the seal's key, which signed the demo's PDFs
    _dropper: _Dropper = dataclasses.field(default_factory=lambda: _Dropper())

    async def clone(self, template: str = "") -> str:
        template = template or self.template
        n = next(_counter)
        if self.kind == "sqlite":
            target = self.workdir / f"test_{n}.sqlite3"
            shutil.copyfile(template, target)
            return f"sqlite:///{target}"
        parts = urlsplit(template)
        name = f"{parts.path.lstrip('/')}_{os.getpid()}_t{n}"
        await _postgres_admin(template, f'CREATE DATABASE "{name}" TEMPLATE "{parts.path.lstrip("/")}"')
        return urlunsplit(parts._replace(path=f"/{name}"))

    async def clone_demo(self, var_dir: Path) -> str:
        """A clone of the demo-seeded template, its seal's key and certificate copied into var_dir.

        The demo's seed (structures, referrals, activities, and some twenty mandates rendered, converted by
        LibreOffice and sealed) takes seconds: it runs once per process, and each clone costs a file copy or
        a CREATE DATABASE. Running hub.demo.seed again on a clone finds everything there and adds nothing."""
        if not self.demo_template:
            await self._seed_demo_template()
        assert self.demo_var_dir is not None
        url = await self.clone(self.demo_template)
        shutil.copytree(self.demo_var_dir, var_dir, dirs_exist_ok=True)
        return url

    async def _seed_demo_template(self) -> None:
        from hub import demo

        var_dir = self.workdir / "demo-var"
        url = await self.clone()
        app = create_app(base_settings(var_dir, url, 0))
        engine = db.current_engine()
        await db.start(engine)
        try:
            await demo.seed(app.state.runtime)
        finally:
            await app.state.runtime.documents.stop()
            await db.stop(engine)
        if self.kind == "sqlite":
            path = url.removeprefix("sqlite:///")
            with contextlib.closing(sqlite3.connect(path)) as connection:  # everything in the file clones copy
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self.demo_template = path
        else:
            self.demo_template = url
        self.demo_var_dir = var_dir

    async def drop(self, url: str) -> None:
        """Drops a clone, in the background: PostgreSQL's DROP DATABASE waits for a checkpoint (a second or
        more), which the next test need not wait for. `dropped()` waits for every drop asked for."""
        if self.kind == "sqlite":
            return
        self._dropper.put(url)

    async def dropped(self) -> None:
        if self.kind == "postgres":
            await asyncio.to_thread(self._dropper.wait)


class _Dropper:
    """Threads dropping PostgreSQL databases as they are handed to them (a few at once: one drop mostly waits)."""

    THREADS = 3

    def __init__(self) -> None:
        self._queue: queue.Queue[str] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self.failures: list[str] = []

    def put(self, url: str) -> None:
        while len(self._threads) < self.THREADS:
            thread = threading.Thread(target=self._run, name="maillage-test-dropper", daemon=True)
            thread.start()
            self._threads.append(thread)
        self._queue.put(url)

    def wait(self) -> None:
        self._queue.join()
        if self.failures:
            raise RuntimeError("databases not dropped: " + "; ".join(self.failures))

    def _run(self) -> None:
        while True:
            url = self._queue.get()
            name = urlsplit(url).path.lstrip("/")
            try:
                asyncio.run(_postgres_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            except Exception as error:
                self.failures.append(f"{name}: {error}")
            finally:
                self._queue.task_done()


def xdist_worker() -> str:
    """The pytest-xdist worker this process is ("gw0", "gw1"…; `make test` runs two), or "" outside xdist."""
    return os.environ.get("PYTEST_XDIST_WORKER", "")


async def _postgres_admin(url: str, statement: str) -> None:
    connection = await asyncpg.connect(urlunsplit(urlsplit(url)._replace(path="/postgres")))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
async def database_factory(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DatabaseFactory]:
    """The migrated template of this process. Under xdist each worker has its own (tmp_path_factory gives
    each worker its own directory; on PostgreSQL, <DATABASE_URL's name>_<worker>, dropped at the end): two
    migrations of one database would collide, and CREATE DATABASE … TEMPLATE refuses a busy template."""
    workdir = tmp_path_factory.mktemp("db")
    url = os.environ.get("DATABASE_URL", "")
    own_template = ""
    if url.startswith(("postgres://", "postgresql://")):
        if worker := xdist_worker():
            parts = urlsplit(url)
            own_template = urlunsplit(parts._replace(path=f"{parts.path}_{worker}"))
            name = f"{parts.path.lstrip('/')}_{worker}"
            await _postgres_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # left by a killed run
            await _postgres_admin(url, f'CREATE DATABASE "{name}"')
            url = own_template
        factory = DatabaseFactory("postgres", url, workdir)
        settings = base_settings(workdir, url, 0)
    else:
        path = workdir / "template.sqlite3"
        factory = DatabaseFactory("sqlite", str(path), workdir)
        settings = base_settings(workdir, f"sqlite:///{path}", 0)
    await db.migrate(db.make_engine(settings))  # no pool was started: nothing stays connected to the template
    yield factory
    if factory.demo_template:
        await factory.drop(factory.demo_template)
    await factory.dropped()
    if own_template:
        await _postgres_admin(
            own_template, f'DROP DATABASE IF EXISTS "{urlsplit(own_template).path.lstrip("/")}" WITH (FORCE)'
        )


def base_settings(var_dir: Path, database_url: str, smtp_port: int, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "env": "test",
        "var_dir": var_dir,
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        "base_url": "http://testserver.local",
        "smtp_url": f"smtp://127.0.0.1:{smtp_port}?starttls=0",
        "argon2_time_cost": 1,
        "argon2_memory_cost": 1024,
        "run_jobs_in_process": False,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
async def database_url(
    database_factory: DatabaseFactory, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[str]:
    """The test's own database: a clone of the migrated template, or of the demo town for a test marked
    demo_town (hub.demo.seed run once per process; the seal's key lands in tmp_path, the test's var dir)."""
    if request.node.get_closest_marker("demo_town"):
        url = await database_factory.clone_demo(tmp_path)
    else:
        url = await database_factory.clone()
    yield url
    await database_factory.drop(url)


@pytest.fixture
def settings(tmp_path: Path, database_url: str, smtp_server: SmtpServer) -> Settings:
    return base_settings(tmp_path, database_url, smtp_server.port)


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture
def rt(app: Litestar) -> Runtime:
    return app.state.runtime  # type: ignore[no-any-return]


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the app, in the test's own event loop (so a PostgreSQL pool is shared safely).

    The app's lifespan is replaced by its database part: anyio's task groups cannot be entered in a
    fixture's set-up task and left in its tear-down task. The browser tests run the real lifespan (uvicorn).
    """
    engine = db.current_engine()
    callers = app.state.runtime.callers
    await db.start(engine)
    await callers.start(engine)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver.local", follow_redirects=True
        ) as http:
            yield http
    finally:
        await callers.stop()
        await app.state.runtime.documents.stop()  # a LibreOffice a test's document started
        await db.stop(engine)


# ---------------------------------------------------------------- people and structures
@dataclasses.dataclass
class Person:
    id: int
    email: str
    password: str
    totp_secret: str | None = None


async def make_structure(name: str = "Centre social des Tilleuls", kind: str = "CS", **values: Any) -> int:
    """A directory structure; any column may be given (commune, coordinates…)."""
    values = {"commune": "Montclair-sur-Loire", "postal_code": "45990", "insee_code": "45990", **values}
    structure = Structure(name=name, kind=kind, **values)
    await structure.save()
    return int(structure.id)


async def make_service(structure_id: int, name: str, *, places: Sequence[dict[str, Any]] = (), **values: Any) -> int:
    """A service as the directory's editing and import code leave it: saved, tags synced, reindexed."""
    service = Service(structure=structure_id, name=name, **values)
    await service.save()
    for place in places:
        await Place(service=service.id, **place).save()
    await search_index.sync_tags(int(service.id))
    await search_index.reindex_service(int(service.id))
    return int(service.id)


async def make_person(
    rt: Runtime,
    email: str,
    roles: dict[int, list[str]] | None = None,
    *,
    admin: bool = False,
    coordinator: bool = False,
    enrolled: bool | None = None,
) -> Person:
    """A user with memberships; users whose role needs 2FA are enrolled unless enrolled=False."""
    user_id = await accounts.create_user(
        rt,
        email=email,
        full_name=email.split("@")[0].replace(".", " ").title(),
        password=PASSWORD,
        is_admin=admin,
        is_coordinator=coordinator,
    )
    for structure_id, role_list in (roles or {}).items():
        for role in role_list:
            await Membership.insert(Membership(user=user_id, structure=structure_id, role=role))
    needs = admin or coordinator or any(r in ("aidant", "manager") for rl in (roles or {}).values() for r in rl)
    secret = None
    if enrolled if enrolled is not None else needs:
        secret = pyotp.random_base32()
        await User.update({User.totp_secret: rt.secrets.seal(secret), User.totp_enabled: True}).where(
            User.id == user_id
        )
    return Person(user_id, email, PASSWORD, secret)


def csrf_token(client: httpx.AsyncClient) -> str:
    token = client.cookies.get("maillage_csrf")
    assert token, "no CSRF cookie: GET a page first"
    return token


async def post_form(client: httpx.AsyncClient, path: str, data: dict[str, str] | None = None, **kwargs: Any) -> Any:
    """Submit a form as a browser does: the CSRF cookie from a prior GET and its hidden field."""
    if not client.cookies.get("maillage_csrf"):
        await client.get("/connexion")
    return await client.post(path, data={**(data or {}), "_csrf_token": csrf_token(client)}, **kwargs)


async def sign_in(client: httpx.AsyncClient, person: Person) -> None:
    """The full page flow: password, then the TOTP code when the account has one."""
    await client.get("/connexion")
    response = await post_form(client, "/connexion", {"email": person.email, "password": person.password})
    assert response.history and response.history[0].status_code == 302, response.text
    if person.totp_secret:
        assert response.url.path == "/connexion/code"
        response = await post_form(client, "/connexion/code", {"code": pyotp.TOTP(person.totp_secret).now()})
        assert response.history and response.url.path == "/", response.text


def read_datainclusion_export(paths: Sequence[Path]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Rows of an export made here, as plain dicts ("structure" | "service", row)."""
    for path in paths:
        if path.suffix == ".json":
            document = json.loads(path.read_text(encoding="utf-8"))
            for key, kind in (("structures", "structure"), ("services", "service")):
                for item in document.get(key, []):
                    yield kind, item
            continue
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                kind = "service" if "structure_id" in row else "structure"
                data = {k: v for k, v in row.items() if v != ""}
                for name in DI_LIST_FIELDS[kind] & data.keys():
                    data[name] = split_list(data[name])
                yield kind, data


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop the worker thread of any SQLite connection a test left open (a pool started and never stopped):
    aiosqlite's threads are not daemons, and one left waiting would keep the finished suite from exiting."""
    import gc

    import aiosqlite

    for candidate in gc.get_objects():
        if isinstance(candidate, aiosqlite.Connection) and candidate._running:
            candidate.stop()
