"""The pack in a real Chromium over the demo town: the coordinator builds the last semester's pack with one
click, the progress page follows the background job (a pass of the jobs loop), then the dashboard shows the
figures, charts and tables, and each file downloads. A period in the future comes back with its message.
axe-core on every page, screenshots at desktop and phone widths."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from hub import jobs
from tests.browser_support import (  # the shared fixtures (browser, live_server…) too
    AccessibilityAudit,
    LiveServer,
    TotpPhone,
    audit,
    browser,
    demo_user,
    live_server,
    new_page,
    phone,
    screenshot,
)
from tests.test_referrals_browser import sign_in

pytestmark = pytest.mark.browser
COORDINATOR = demo_user("coordination@demo.maillage.fr")


def test_the_coordinator_builds_the_pack_in_one_click(
    new_page: Callable[..., Page], audit: AccessibilityAudit, phone: TotpPhone, live_server: LiveServer
) -> None:
    page = new_page()
    sign_in(page, COORDINATOR, phone)
    page.goto("/reunions")
    page.get_by_role("link", name="Bilan du réseau").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bilan du réseau")
    audit.check(page, "bilan : choisir la période")
    screenshot(page, "bilan-periode")

    page.get_by_label("Semestre").select_option("")
    page.get_by_label("Première date").fill("2099-01-01")
    page.get_by_label("Dernière date").fill("2099-03-31")
    page.get_by_role("button", name="Construire le bilan").click()
    expect(page.get_by_role("alert")).to_contain_text("Cette période n'a pas commencé")
    expect(page.get_by_label("Première date")).to_have_value("2099-01-01")
    audit.check(page, "bilan : période future")

    page.get_by_label("Première date").fill("")
    page.get_by_label("Dernière date").fill("")
    semester = page.get_by_label("Semestre").locator("option").nth(2).get_attribute("value")
    assert semester and re.fullmatch(r"\d{4}-S[12]", semester)
    page.get_by_label("Semestre").select_option(semester)
    page.get_by_role("button", name="Construire le bilan").click()
    expect(page).to_have_url(re.compile(r"/reunions/bilan/[0-9a-f]{16}$"))
    expect(page.get_by_role("status").filter(has_text="En attente")).to_contain_text("commence dans un instant")
    audit.check(page, "bilan : progression")
    screenshot(page, "bilan-progression")
    # the jobs loop's pass (run by the test, as the live server runs no loop of its own); the page reloads itself
    assert live_server.call(lambda rt: jobs.run_due_jobs(rt), timeout=240) == (1, 0)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile(rf"^Bilan du réseau – {semester} \(du 1er"), timeout=60_000
    )
    expect(page.get_by_role("heading", name=re.compile("Le réseau et son annuaire"))).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("Graphique : Structures membres par type"))).to_be_visible()
    expect(page.get_by_role("table", name=re.compile("Chiffres clés : Le réseau"))).to_be_visible()
    expect(page.get_by_role("heading", name="Annexe : définitions des indicateurs")).to_be_visible()
    audit.check(page, "bilan : tableau de bord")
    screenshot(page, "bilan-tableau-de-bord")
    for label, suffix in (("PDF, à présenter ou imprimer", ".pdf"), ("Annexe des tableaux (XLSX)", ".xlsx")):
        with page.expect_download() as download:
            page.get_by_role("link", name=label).click()
        assert download.value.suggested_filename == f"bilan-reseau-{semester}{suffix}"
