"""Support for the real-browser tests: the real app served by uvicorn, TOTP codes, axe-core, screenshots.

The server runs in a thread with its own event loop (asyncio.run), and everything that touches the
database goes through that loop: the database clone, the seeding, the app's lifespan, and any set-up a
test asks for (`LiveServer.call`). A PostgreSQL pool is bound to the loop that opened it, so no query of
the test's own thread may ever reach it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pyotp
import pytest
import uvicorn
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, sync_playwright

from hub import demo, mail
from hub.app import create_app
from hub.runtime import Runtime
from hub.settings import Settings
from tests.conftest import DatabaseFactory, SmtpServer, base_settings

T = TypeVar("T")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
MOBILE: ViewportSize = {"width": 375, "height": 740}
SHOTS_DIR = Path(os.environ.get("MAILLAGE_SHOTS_DIR", "/tmp/shots"))  # noqa: S108 (screenshots to look at)
BLOCKING_IMPACTS = ("serious", "critical")


class _Server(uvicorn.Server):
    """uvicorn's server, telling when its start-up (lifespan included) is over, whatever its outcome."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.started_event = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets)
        finally:
            self.started_event.set()


class LiveServer:
    """The real app (real lifespan) on a loopback port, over a fresh clone of the demo-seeded database."""

    def __init__(self, factory: DatabaseFactory, var_dir: Path, smtp_port: int, **overrides: Any) -> None:
        self._factory = factory
        self._var_dir = var_dir
        self._smtp_port = smtp_port
        self._overrides = overrides
        # Bound here and handed to uvicorn: no window in which another process could take the port.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port = int(self._socket.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: _Server | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="maillage-live-server", daemon=True)
        self.settings: Settings | None = None
        self.runtime: Runtime | None = None

    # ------------------------------------------------------------ life cycle
    def start(self, timeout: float = 60.0) -> LiveServer:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the live server did not start in time")
        if self._error is not None:
            raise RuntimeError("the live server failed to start") from self._error
        return self

    def stop(self, timeout: float = 30.0) -> None:
        if self._server is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(setattr, self._server, "should_exit", True)
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise RuntimeError("the live server did not stop in time")
        if self._error is not None:
            raise RuntimeError("the live server failed") from self._error

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as error:  # reported to the test thread by start() / stop()
            self._error = error
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        database_url = await self._factory.clone_demo(self._var_dir)  # the demo town, seeded once per process
        try:
            settings = base_settings(self._var_dir, database_url, self._smtp_port)
            settings = dataclasses.replace(settings, base_url=self.url, **self._overrides)
            assert not settings.run_jobs_in_process, "tests deliver mail themselves"
            app = create_app(settings)
            self.settings, self.runtime = settings, app.state.runtime
            config = uvicorn.Config(
                app, log_level="warning", lifespan="on", access_log=False, timeout_graceful_shutdown=3
            )
            self._server = _Server(config)
            serving = asyncio.create_task(self._server.serve(sockets=[self._socket]))
            started = asyncio.create_task(self._server.started_event.wait())
            await asyncio.wait({serving, started}, return_when=asyncio.FIRST_COMPLETED)
            if serving.done() or not self._server.started:
                started.cancel()
                await serving  # raises what stopped the start-up, if anything did
                raise RuntimeError("uvicorn stopped during start-up")
            # The demo's seed again, once the lifespan has opened the engine (same loop, same pool as the
            # requests): it finds the clone's demo there and adds nothing.
            await demo.seed(self.runtime)
            self._ready.set()
            await serving
        finally:
            self._socket.close()
            await self._factory.drop(database_url)

    # ------------------------------------------------------------ work on the server's loop
    def call(self, make: Callable[[Runtime], Awaitable[T]], timeout: float = 30.0) -> T:
        """Run a coroutine on the server's loop (the only one allowed near its database)."""
        assert self._loop is not None and self.runtime is not None
        runtime = self.runtime

        async def job() -> T:
            return await make(runtime)

        return asyncio.run_coroutine_threadsafe(job(), self._loop).result(timeout)

    def deliver_mail(self, at_least: int = 0, timeout: float = 10.0) -> int:
        """What the jobs loop would do next: send the outbox to the test's SMTP server. With `at_least`, its next
        rounds too, until that many are sent: a page may queue its mail after its answer has gone (a password
        reset does, so that no timing tells whether the address has an account)."""
        sent, deadline = 0, time.monotonic() + timeout
        while True:
            delivered, failed = self.call(mail.deliver_due)
            assert failed == 0, "the outbox could not reach the test SMTP server"
            sent += delivered
            if sent >= at_least or time.monotonic() > deadline:
                return sent
            time.sleep(0.1)


class TotpPhone:
    """The authenticator app of every demo account, without ever replaying a step the hub has seen.

    The hub refuses a code whose 30 s step it already accepted, and accepts one step ahead: a second
    sign-in within the same step takes the next step's code.
    """

    def __init__(self, secrets: dict[str, str] | None = None) -> None:
        self._last_step: dict[str, int] = {}
        self.secrets = secrets or {}  # email -> secret: the demo's are drawn per install, read from the server

    def code(self, secret: str) -> str:
        totp = pyotp.TOTP(secret)
        now_step = int(time.time() // totp.interval)
        step = max(now_step, self._last_step.get(secret, -1) + 1)
        if step > now_step + 1:  # beyond the window the hub accepts: wait as a person would
            time.sleep((step - 1) * totp.interval - time.time() + 0.5)
        self._last_step[secret] = step
        return totp.generate_otp(step)


def demo_user(email: str) -> demo.DemoUser:
    return next(user for user in demo.USERS if user.email == email)


# ---------------------------------------------------------------- axe-core
class AccessibilityAudit:
    """Runs axe-core on pages; keeps every finding for the summary, fails on serious or critical ones."""

    def __init__(self) -> None:
        self._axe = Axe()
        self.findings: dict[str, list[str]] = {}

    def check(self, page: Page, label: str) -> None:
        page.wait_for_load_state()  # a navigation under way: audit the page it leads to, once loaded
        results = self._axe.run(page)
        violations = results.response["violations"]
        self.findings[label] = [f"{v['id']} ({v['impact']}): {len(v['nodes'])} nœud(s)" for v in violations]
        blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
        if blocking:
            lines = [f"axe-core on {label} ({page.url}):"]
            for violation in blocking:
                lines.append(f"  {violation['id']} [{violation['impact']}] {violation['help']}")
                for node in violation["nodes"][:5]:
                    lines.append(f"    {', '.join(map(str, node['target']))}: {node.get('failureSummary', '')}")
            raise AssertionError("\n".join(lines))


def screenshot(page: Page, name: str) -> None:
    """Full-page screenshots at desktop and phone widths, to look at (see SHOTS_DIR).

    At 375 px, the page must also reflow without a horizontal scroll bar (WCAG 1.4.10): wide tables
    scroll inside their own region.
    """
    SHOTS_DIR.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size or DESKTOP
    page.screenshot(path=str(SHOTS_DIR / f"{name}-desktop.png"), full_page=True)
    page.set_viewport_size(MOBILE)
    try:
        page.screenshot(path=str(SHOTS_DIR / f"{name}-mobile.png"), full_page=True)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= MOBILE["width"], f"{name}: the page is {width} px wide on a {MOBILE['width']} px screen"
    finally:
        page.set_viewport_size(size)


# ---------------------------------------------------------------- fixtures every browser test module imports
@pytest.fixture(scope="module")
def live_server(
    database_factory: DatabaseFactory, smtp_server: SmtpServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    server = LiveServer(database_factory, tmp_path_factory.mktemp("browser"), smtp_server.port).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser(live_server: LiveServer) -> Iterator[Browser]:
    # Depends on live_server so the browser is closed before the server stops, and so every async
    # fixture is set up before Playwright's own loop starts in this thread.
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def audit(request: pytest.FixtureRequest) -> Iterator[AccessibilityAudit]:
    checker = AccessibilityAudit()
    yield checker
    SHOTS_DIR.mkdir(parents=True, exist_ok=True)
    lines = [f"{label}: {', '.join(found) or 'aucune violation'}" for label, found in checker.findings.items()]
    (SHOTS_DIR / f"axe-summary-{request.module.__name__.rsplit('.', 1)[-1]}.txt").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def phone(live_server: LiveServer) -> TotpPhone:
    return TotpPhone(live_server.call(demo.totp_secrets))


@pytest.fixture
def new_page(browser: Browser, live_server: LiveServer) -> Iterator[Callable[..., Page]]:
    """Opens a page in a fresh browser context (its own cookies), closed at the end of the test."""
    contexts: list[BrowserContext] = []

    def open_page(**options: Any) -> Page:
        context = browser.new_context(base_url=live_server.url, viewport=DESKTOP, locale="fr-FR", **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()
