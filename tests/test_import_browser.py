"""The import's page in a real Chromium: the coordinator sends a file from the desk, lands on the import's page
(axe-checked while it waits), and the page's small poller (static/js/import-progress.js) shows the report once
the jobs loop has run the import; without JavaScript, the "Actualiser" link does the same."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from hub import jobs
from tests.browser_support import (  # the shared fixtures (browser, live_server…) too
    AccessibilityAudit,
    LiveServer,
    TotpPhone,
    audit,
    browser,
    live_server,
    new_page,
    phone,
    screenshot,
)
from tests.test_browser import COORDINATOR, sign_in_demo

pytestmark = pytest.mark.browser

DATA = Path(__file__).parent / "data"
__all__ = ["audit", "browser", "live_server", "new_page", "phone"]


def _send(page: Page, name: str) -> None:
    page.goto("/annuaire/coordination")
    page.get_by_label("Fichier(s)").set_input_files(str(DATA / name))
    page.get_by_role("button", name="Importer").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Import n°")


def test_the_import_page_follows_the_job_then_shows_the_report(
    new_page: Callable[..., Page], live_server: LiveServer, audit: AccessibilityAudit, phone: TotpPhone
) -> None:
    page = new_page()
    sign_in_demo(page, COORDINATOR, phone)
    _send(page, "datainclusion_broken_rows.json")
    expect(page.get_by_role("heading", name="Import en cours")).to_be_visible()
    expect(page.get_by_text("En attente de démarrage")).to_be_visible()
    audit.check(page, "import en attente")
    screenshot(page, "import-en-attente")

    assert live_server.call(jobs.run_due_jobs)[0] >= 1
    # the poller brings the report in, and moves focus to its title
    expect(page.get_by_role("heading", name="Import terminé")).to_be_focused(timeout=10_000)
    expect(page.get_by_role("table", name="Lignes refusées")).to_be_visible()
    expect(page.get_by_role("link", name="Télécharger le rapport complet, ligne par ligne (CSV)")).to_be_visible()
    audit.check(page, "import terminé (rapport)")
    screenshot(page, "import-termine")


def test_without_javascript_the_link_refreshes_the_page_and_a_failure_says_why(
    new_page: Callable[..., Page], live_server: LiveServer, audit: AccessibilityAudit, phone: TotpPhone
) -> None:
    page = new_page(java_script_enabled=False)
    sign_in_demo(page, COORDINATOR, phone)
    _send(page, "datainclusion_truncated.json")
    live_server.call(jobs.run_due_jobs)
    expect(page.get_by_role("heading", name="Import en cours")).to_be_visible()  # no script: nothing moves
    page.get_by_role("link", name="Actualiser").click()
    expect(page.get_by_role("alert")).to_contain_text("L'import a échoué")
    expect(page.get_by_role("alert")).to_contain_text("Rien n'a été importé")
    screenshot(page, "import-echoue")
    # axe runs in the page's JavaScript: the same page, read with it
    checked = new_page()
    sign_in_demo(checked, COORDINATOR, phone)
    checked.goto(page.url)
    expect(checked.get_by_role("alert")).to_contain_text("L'import a échoué")
    audit.check(checked, "import échoué")
