"""The auditor's console in headless Chromium against a real server: search the audit log,
then verify the log's integrity."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_console_e2e import SHOTS, _login

pytestmark = pytest.mark.browser


def test_auditor_searches_the_log_and_verifies_it(page: Page, server: str) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # The police auditor: the Segura one may have used this 30-second code in another test.
    _login(page, server, "auditor.policia")

    page.get_by_test_id("nav-audit").click()
    expect(page).to_have_url(f"{server}/audit")
    expect(page.locator("h1")).to_contain_text("Bitácora de auditoría")
    page.get_by_test_id("audit-user").fill("auditor.policia")
    page.get_by_test_id("audit-action").fill("auth.*")
    page.get_by_test_id("audit-submit").click()
    rows = page.locator("tr[data-record-id]")
    expect(rows.first).to_be_visible()
    assert rows.count() >= 1
    for text in rows.all_inner_texts():
        assert "auditor.policia" in text and "auth." in text
    expect(page.get_by_test_id("audit-user")).to_have_value("auditor.policia")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / "audit-search.png")

    page.get_by_test_id("audit-nav-integrity").click()
    expect(page).to_have_url(f"{server}/audit/integrity")
    result = page.get_by_test_id("integrity-result")
    expect(result).to_have_attribute("data-state", "verified")
    expect(result).to_contain_text("Verificada")
    page.screenshot(path=SHOTS / "audit-integrity.png")
    assert errors == []
