"""The console shows the policy door's reason when it refuses footage, and stops asking."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx2 as httpx
from playwright.sync_api import Page, expect

from sereno.adapters.totp import code_at
from sereno.demo.city import demo_totp_secret
from tests.browser.test_console_e2e import _wait_for

PASSWORD = "vigilancia nocturna en la bahía"


def _admin_token(server: str) -> dict[str, str]:
    """admin.segura's bearer token (a code is good once: wait for the next one if taken)."""
    for _ in range(2):
        response = httpx.post(f"{server}/api/v1/auth/token", data={
            "username": "admin.segura", "password": "sereno-demo-2026",
            "otp": code_at(demo_totp_secret("admin.segura"), datetime.now(UTC))})
        if response.status_code == 200:
            return {"Authorization": f"Bearer {response.json()['access_token']}"}
        time.sleep(30.5 - time.time() % 30)
    raise AssertionError(response.text)


def test_a_refused_camera_shows_the_policy_reason(page: Page, server: str) -> None:
    admin = _admin_token(server)
    camera = httpx.get(f"{server}/api/v1/cameras/SEG-001", headers=admin).json()
    centres = httpx.get(f"{server}/api/v1/centres", headers=admin).json()
    elsewhere = next(c["id"] for c in centres
                     if c["agency_id"] == "segura-ep" and c["id"] != camera["centre_id"])
    created = httpx.post(f"{server}/api/v1/users", headers=admin, json={
        "username": "vigilante.segura", "display_name": "Vigilante de turno",
        "password": PASSWORD, "roles": ["operator"]})
    assert created.status_code == 201, created.text
    profile = httpx.put(f"{server}/api/v1/users/{created.json()['id']}/access-profile",
                        headers=admin, json={"clearance": 1, "centre_ids": [elsewhere]})
    assert profile.status_code == 200, profile.text

    page.goto(f"{server}/login")
    page.get_by_test_id("username").fill("vigilante.segura")
    page.get_by_test_id("password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.goto(f"{server}/cameras/SEG-001")
    _wait_for(page, "document.getElementById('snapshot-status').dataset.denied === 'true'")
    status = page.get_by_test_id("snapshot-status")
    expect(status).to_contain_text("Acceso denegado por la política:")
    expect(status).to_contain_text("assigned to")
