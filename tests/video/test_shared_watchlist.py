"""Shared watchlists (ADR 0030): a police entry it published is matched on a Segura EP camera
when an agreement in force shares watchlists with Segura EP, and the hit goes to the police
only. Without the agreement (none, revoked, ended, not sharing watchlists, another area) or
unpublished, partners' cameras do not match it."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta

import numpy as np
from fastapi.testclient import TestClient

from sereno.bootstrap import Platform
from sereno.domain import events
from sereno.domain.agreements import SharingAgreement
from sereno.services.video import camera_specs
from sereno.services.watchlist import agreement_changed
from sereno.video.frames import Frame
from sereno.video.messages import CameraSpec
from sereno.video.node import RELOAD_ON, VideoNode
from sereno.video.pipeline import AnalyticsStage, PlateStage
from sereno.video.rules.engine import TrackedObject
from tests.conftest import bearer
from tests.support.plates import camera_look, composite, render_sign, vehicle_region

POLICE, SEGURA = "policia-nacional", "segura-ep"
PARTNER_CAMERA = "SEG-006"  # Segura EP's private camera: the police cannot even see it
WATCHLIST = "/api/v1/watchlist"
# Around Parque Centenario (SEG-006), and somewhere else in Guayaquil (lon, lat).
CENTRE = {"type": "Polygon", "coordinates": [[(-79.90, -2.20), (-79.88, -2.20), (-79.88, -2.18),
                                              (-79.90, -2.18), (-79.90, -2.20)]]}
NORTH = {"type": "Polygon", "coordinates": [[(-79.90, -2.10), (-79.88, -2.10), (-79.88, -2.08),
                                             (-79.90, -2.08), (-79.90, -2.10)]]}


def _agreement(platform: Platform, *, share: bool = True, giver: str = POLICE,
               receiver: str = SEGURA, starts: timedelta = timedelta(hours=-1),
               ends: timedelta | None = None, area: dict[str, object] | None = None) -> str:
    # Its alert terms never cover a plate hit (category Security): whether the watching
    # agency's alert is then shared with the partner is alert sharing's decision (ADR 0025),
    # not what this file tests.
    now = platform.clock()
    agreement = SharingAgreement.draft(
        agreement_id=str(uuid.uuid4()), from_agency_id=giver, to_agency_id=receiver,
        title="Convenio de cooperación", categories=["Safety"], min_severity="Minor",
        valid_from=now + starts, valid_until=None if ends is None else now + ends,
        by="admin.policia", at=now, share_watchlists=share, area=area)
    with platform.uow() as uow:
        uow.agreements.add(agreement)
        uow.commit()
    return agreement.id


def _revoke(platform: Platform, agreement_id: str) -> None:
    with platform.uow() as uow:
        agreement = uow.agreements.get(agreement_id)
        assert agreement is not None
        agreement.revoke("admin.policia", platform.clock(), "fin del convenio")
        uow.commit()


def _add(client: TestClient, plate: str, *, published: bool = True,
         username: str = "dispatcher.policia") -> str:
    response = client.post(WATCHLIST, headers=bearer(client, username), json={
        "plate": plate, "reason": "vehículo robado, denuncia 2026-0042",
        "published": published})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _spec(platform: Platform, camera_id: str = PARTNER_CAMERA) -> CameraSpec:
    specs = camera_specs(platform.uow(), analytics_fps=2, detect_fps=1, transport="tcp",
                         now=platform.clock())
    return next(s for s in specs if s.camera_id == camera_id)


def _plates(platform: Platform, camera_id: str = PARTNER_CAMERA) -> dict[str, str]:
    """What the camera's worker would match: plate -> watching agency."""
    return {str(e["plate"]): str(e["agency_id"]) for e in _spec(platform, camera_id).watchlist}


def test_a_published_entry_on_a_partner_camera_alerts_the_publisher_only(
        client: TestClient, platform: Platform, street, font) -> None:  # type: ignore[no-untyped-def]
    _agreement(platform)
    _add(client, "GBC-1234")
    _add(client, "MCA-5566", username="dispatcher.segura")  # Segura's own list, as before
    assert _plates(platform) == {"GBC1234": POLICE, "MCA5566": SEGURA}
    # The worker's plate stage, built from the spec as a worker builds it.
    plates = AnalyticsStage(_spec(platform), None).plates
    assert plates is not None
    height, frame_width = street.shape[:2]
    centre, width = (0.6 * frame_width, 0.55 * height), 110.0
    image = camera_look(composite(street, render_sign("GBC-1234", font), centre, width, 1.5), 70)
    car = TrackedObject(7, "vehicle", 0.5, vehicle_region(centre, width, image))
    wall = platform.clock().timestamp()
    frame = Frame(PARTNER_CAMERA, 1, time.monotonic(), wall, None,
                  np.ascontiguousarray(image[:, :, 1]))
    messages = plates.process(frame, image, [car])
    assert [m.payload["detail"]["watching_agency"] for m in messages] == [POLICE]
    node = VideoNode(platform)  # not started: only its hand-over of a worker's findings
    for message in messages:
        node._on_stage_message(message)
    police = client.get("/api/v1/alerts", headers=bearer(client, "operator.policia")).json()
    assert len(police) == 1 and police[0]["cameras"] == [PARTNER_CAMERA]
    assert police[0]["severity"] == "Severe" and "GBC1234" in police[0]["description"]
    segura_headers = bearer(client, "supervisor.segura")
    assert client.get("/api/v1/alerts", headers=segura_headers).json() == []
    # The camera's owner sees neither the hit nor the plate.
    detections = client.get("/api/v1/detections", headers=segura_headers,
                            params={"camera_id": PARTNER_CAMERA})
    assert detections.status_code == 200 and "GBC" not in detections.text
    assert all(e["rule_kind"] != "plate" for e in detections.json())
    listed = client.get(WATCHLIST, headers=segura_headers).json()
    assert [e["plate"] for e in listed] == ["MCA5566"]


def test_partner_cameras_match_only_under_a_live_agreement(client: TestClient,
                                                           platform: Platform) -> None:
    entry = _add(client, "GBC-1234")
    dispatcher = bearer(client, "dispatcher.policia")
    assert "GBC1234" not in _plates(platform)  # no agreement
    refuses = _agreement(platform, share=False)
    assert "GBC1234" not in _plates(platform)  # an agreement that does not share watchlists
    _revoke(platform, refuses)
    reverse = _agreement(platform, giver=SEGURA, receiver=POLICE)
    assert "GBC1234" not in _plates(platform)  # Segura shares with the police, not the reverse
    _revoke(platform, reverse)
    ended = _agreement(platform, starts=timedelta(days=-30), ends=timedelta(seconds=-1))
    assert "GBC1234" not in _plates(platform)
    _revoke(platform, ended)
    elsewhere = _agreement(platform, area=NORTH)
    assert "GBC1234" not in _plates(platform)  # the camera is outside the agreement's area
    _revoke(platform, elsewhere)
    live = _agreement(platform, area=CENTRE)
    assert _plates(platform)["GBC1234"] == POLICE
    assert client.post(f"{WATCHLIST}/{entry}/unpublish", headers=dispatcher).status_code == 200
    assert "GBC1234" not in _plates(platform)  # taken back
    assert client.post(f"{WATCHLIST}/{entry}/publish", headers=dispatcher).status_code == 200
    assert _plates(platform)["GBC1234"] == POLICE
    _revoke(platform, live)
    assert "GBC1234" not in _plates(platform)  # revoked
    # An unpublished entry never reaches partners' private cameras...
    _agreement(platform)
    _add(client, "PBA-0987", published=False)
    assert set(_plates(platform)) == {"GBC1234"}
    # ...while Segura's shared cameras, which the police may see, match its whole list (issue 3).
    assert {"GBC1234", "PBA0987"} <= set(_plates(platform, "SEG-001"))


def test_a_running_worker_honours_the_agreement_period(client: TestClient,
                                                       platform: Platform) -> None:
    _add(client, "GBC-1234")
    _agreement(platform, starts=timedelta(hours=1), ends=timedelta(hours=3))
    now = platform.clock()
    stage = PlateStage(PARTNER_CAMERA, _spec(platform).watchlist)
    at: dict[str, datetime] = {"before": now, "during": now + timedelta(hours=2),
                               "after": now + timedelta(hours=4)}
    hits = {name: [h.agency_id for h in stage.watchlist.match("GBC1234", at=moment)]
            for name, moment in at.items()}
    assert hits == {"before": [], "during": [POLICE], "after": []}


def test_creating_or_revoking_a_sharing_agreement_reloads_the_workers(
        platform: Platform) -> None:
    now = platform.clock()
    found: dict[bool, list[str]] = {}
    for share in (True, False):
        agreement = SharingAgreement.draft(
            agreement_id=str(uuid.uuid4()), from_agency_id=POLICE, to_agency_id=SEGURA,
            title="Convenio", categories=["Security"], min_severity="Minor", valid_from=now,
            valid_until=None, by="admin.policia", at=now, share_watchlists=share)
        with platform.uow() as uow:
            uow.agreements.add(agreement)
            agreement_changed(uow, agreement)
            uow.commit()
            found[share] = [e.agency_id for e in uow.collect_new_events()
                            if isinstance(e, events.WatchlistChanged)]
    assert found == {True: [POLICE, SEGURA], False: []}
    assert events.WatchlistChanged in RELOAD_ON  # what the video node restarts its workers on
