"""The Atom feed of an agency's alerts: valid Atom, newest first, each entry linking to its CAP
message; the own agency sees all, a partner only what an agreement in force lets through, and
a caller without one is refused (audited)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from lxml import etree

from sereno.bootstrap import Platform
from sereno.exchange.cap.validation import check_cap
from tests.conftest import audit_rows, bearer
from tests.support.cap import agreement, raise_alert

A = {"a": "http://www.w3.org/2005/Atom"}
FEED = "/api/v1/cap/feeds/{}.atom"
# Covers the Malecón (SEG-001 is at -2.19, -79.88) and not the north of the city.
SOUTH = {"type": "Polygon", "coordinates": [[[-79.95, -2.25], [-79.85, -2.25], [-79.85, -2.15],
                                             [-79.95, -2.15], [-79.95, -2.25]]]}


def _revoke_all(platform: Platform) -> None:
    with platform.uow() as uow:
        for agency in ("segura-ep", "policia-nacional"):
            for existing in uow.agreements.active_from(agency):
                existing.revoke("admin.segura", platform.clock(), "pruebas sin acuerdos")
        uow.commit()


def _feed(client: TestClient, username: str, agency: str = "segura-ep") -> etree._Element:
    response = client.get(FEED.format(agency), headers=bearer(client, username))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/atom+xml")
    return etree.fromstring(response.content)


def _valid_atom(feed: etree._Element) -> None:
    assert feed.tag == "{http://www.w3.org/2005/Atom}feed"
    for required in ("a:id", "a:title", "a:updated", "a:author/a:name"):
        assert feed.findtext(required, namespaces=A), required
    assert feed.find("a:link[@rel='self']", A) is not None
    for entry in feed.iterfind("a:entry", A):
        for required in ("a:id", "a:title", "a:updated"):
            assert entry.findtext(required, namespaces=A), required
        link = entry.find("a:link[@rel='alternate']", A)
        assert link is not None and link.get("type") == "application/cap+xml"


def _linked_ids(feed: etree._Element) -> list[str]:
    return [str(e.find("a:link", A).get("href")).split("/")[-2]  # type: ignore[union-attr]
            for e in feed.iterfind("a:entry", A)]


def test_the_own_agency_sees_all_newest_first_with_working_links(
        client: TestClient, platform: Platform, clock) -> None:  # type: ignore[no-untyped-def]
    first = raise_alert(platform, category="Health", severity="Minor")
    clock.advance(seconds=5)
    second = raise_alert(platform, category="Security", severity="Extreme")
    feed = _feed(client, "operator.segura")
    _valid_atom(feed)
    ids = _linked_ids(feed)
    assert ids.index(second.id) < ids.index(first.id)
    link = feed.find("a:entry/a:link", A).get("href")  # type: ignore[union-attr]
    assert link == f"http://testserver/api/v1/alerts/{ids[0]}/cap"
    cap = client.get(link, headers=bearer(client, "operator.segura"))
    assert cap.status_code == 200 and check_cap(cap.content, strict=True).valid
    record = [r for r in audit_rows(platform) if r.action == "cap.feed.read"][-1]
    assert record.outcome == "allowed" and record.object_id == "segura-ep"


def test_a_partner_sees_only_what_its_agreements_let_through(
        client: TestClient, platform: Platform) -> None:
    _revoke_all(platform)
    let_through = raise_alert(platform, category="Security", severity="Severe")
    too_minor = raise_alert(platform, category="Security", severity="Minor")
    other_field = raise_alert(platform, category="Health", severity="Extreme")
    outside = raise_alert(platform, category="Security", severity="Severe", camera_id=None)
    agreement(platform, min_severity="Moderate", area=SOUTH)
    feed = _feed(client, "operator.policia")
    _valid_atom(feed)
    ids = _linked_ids(feed)
    assert let_through.id in ids
    assert not {too_minor.id, other_field.id, outside.id} & set(ids)
    # The entry's link works for the partner: a Restricted message naming the agreement.
    cap = client.get(f"/api/v1/alerts/{let_through.id}/cap",
                     headers=bearer(client, "operator.policia"))
    assert cap.status_code == 200 and b"<scope>Restricted</scope>" in cap.content


def test_no_agreement_no_feed(client: TestClient, platform: Platform) -> None:
    _revoke_all(platform)
    raise_alert(platform)
    response = client.get(FEED.format("segura-ep"), headers=bearer(client, "operator.policia"))
    assert response.status_code == 403
    assert "no sharing agreement" in response.json()["error"]["message"]
    refused = [r for r in audit_rows(platform) if r.action == "cap.feed.read"][-1]
    assert refused.outcome == "denied" and refused.actor_username == "operator.policia"
    unknown = client.get(FEED.format("nadie"), headers=bearer(client, "operator.policia"))
    assert unknown.status_code == 404
    admins = client.get(FEED.format("segura-ep"), headers=bearer(client, "admin.segura"))
    assert admins.status_code == 403  # no ALERT_READ
