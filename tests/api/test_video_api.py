"""Rules, detections and stream health through the API."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from sereno.bootstrap import Platform
from sereno.domain import commands, events
from tests.conftest import bearer


def test_rule_lifecycle(client: TestClient) -> None:
    headers = bearer(client, "supervisor.segura")
    created = client.post("/api/v1/cameras/SEG-002/rules", headers=headers, json={
        "name": "Noche en la plaza", "kind": "zone", "classes": ["person", "vehicle"],
        "points": [[0.2, 0.2], [0.8, 0.2], [0.8, 0.8], [0.2, 0.8], [0.2, 0.2]],
        "schedule": {"windows": [{"days": [4, 5], "start": "22:00", "end": "05:00"}]}})
    assert created.status_code == 201, created.text
    rule = created.json()
    assert len(rule["points"]) == 4  # the closing point is dropped
    assert rule["schedule"]["windows"][0] == {"days": [4, 5], "start": "22:00", "end": "05:00"}
    listed = client.get("/api/v1/cameras/SEG-002/rules", headers=headers).json()
    assert rule["id"] in {r["id"] for r in listed}
    patched = client.patch(f"/api/v1/cameras/SEG-002/rules/{rule['id']}", headers=headers,
                           json={"enabled": False, "cooldown_s": 5})
    assert patched.status_code == 200 and patched.json()["enabled"] is False
    assert client.delete(f"/api/v1/cameras/SEG-002/rules/{rule['id']}",
                         headers=headers).status_code == 204
    assert client.delete(f"/api/v1/cameras/SEG-002/rules/{rule['id']}",
                         headers=headers).status_code == 404


@pytest.mark.parametrize(("body", "needle"), [
    ({"kind": "zone", "points": [[0, 0], [1, 1], [1, 0], [0, 1]]}, "intersects itself"),
    ({"kind": "zone", "points": [[0, 0], [1.5, 0], [0, 1]]}, "inside the frame"),
    ({"kind": "line", "points": [[0.5, 0.5], [0.5, 0.5]]}, "two distinct points"),
    ({"kind": "crowd", "points": [[0, 0], [1, 0], [1, 1]], "min_count": 0}, "min_count"),
    ({"kind": "zone", "points": [[0, 0], [1, 0], [1, 1]],
      "schedule": {"windows": [{"days": [8], "start": "22:00", "end": "05:00"}]}}, "days"),
    ({"kind": "spiral", "points": [[0, 0], [1, 0], [1, 1]]}, "kind"),
])
def test_bad_rules_get_clear_errors(client: TestClient, body: dict[str, object],
                                    needle: str) -> None:
    headers = bearer(client, "supervisor.segura")
    before = client.get("/api/v1/cameras/SEG-002/rules", headers=headers).json()
    response = client.post("/api/v1/cameras/SEG-002/rules", headers=headers, json=body)
    assert response.status_code == 422
    assert needle in str(response.json()["error"])
    assert client.get("/api/v1/cameras/SEG-002/rules", headers=headers).json() == before


def test_operators_read_rules_but_do_not_change_them(client: TestClient) -> None:
    operator = bearer(client, "operator.segura")
    assert client.get("/api/v1/cameras/SEG-001/rules", headers=operator).status_code == 200
    response = client.post("/api/v1/cameras/SEG-001/rules", headers=operator,
                           json={"kind": "zone", "points": [[0, 0], [1, 0], [1, 1]]})
    assert response.status_code == 403


def test_detections_are_stored_published_and_listed(client: TestClient,
                                                    platform: Platform) -> None:
    with platform.event_stream.subscribe() as seen:
        event = platform.bus.handle(commands.RecordDetection(
            "SEG-001", None, "line", ("person",), (7, 9), 0.87, (0.1, 0.2, 0.3, 0.9),
            1_800_000_000.0, snapshot_jpeg=b"\xff\xd8fake-but-stored\xff\xd9"))
        published = [e for e in seen if isinstance(e, events.DetectionEvent)]
    assert published == [event]
    assert platform.media.get(event.snapshot_key) == b"\xff\xd8fake-but-stored\xff\xd9"
    police = bearer(client, "operator.policia")  # SEG-001 is shared: partners see its events
    listed = client.get("/api/v1/detections?camera_id=SEG-001", headers=police).json()
    assert listed[0]["id"] == event.event_id and listed[0]["track_ids"] == [7, 9]
    assert listed[0]["at"].startswith("2027-01-15T08:00:00")


def test_health_without_workers_says_so(client: TestClient) -> None:
    response = client.get("/api/v1/cameras/SEG-001/health",
                          headers=bearer(client, "operator.segura"))
    assert response.status_code == 200
    assert response.json() == {"camera_id": "SEG-001", "status": "online", "stream": None}


def test_playback_returns_the_recorded_packets_as_mp4(client: TestClient,
                                                      platform: Platform) -> None:
    import io

    import av

    from tests.api.recordings import record_sample

    start, end = record_sample(platform, "SEG-002")
    operator = bearer(client, "operator.segura")
    params = {"start": start.isoformat(), "end": end.isoformat()}
    segments = client.get("/api/v1/cameras/SEG-002/recordings", params=params,
                          headers=operator).json()
    assert len(segments) >= 2 and all(s["bytes"] > 0 for s in segments)
    supervisor = bearer(client, "supervisor.segura")
    opened = client.post("/api/v1/cases", headers=supervisor,
                         json={"reference": "INC-2026-0042", "title": "Robo en la Bahía"})
    assert opened.status_code == 201, opened.text
    why = {"X-Sereno-Purpose": "incident_response", "X-Sereno-Case": "INC-2026-0042"}
    response = client.get("/api/v1/cameras/SEG-002/recordings/clip.mp4", params=params,
                          headers={**operator, **why})
    assert response.status_code == 200 and response.headers["content-type"] == "video/mp4"
    with av.open(io.BytesIO(response.content)) as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert frames >= 150  # the 12 s, 15 fps clip, from packets copied without re-encoding
    empty = client.get("/api/v1/cameras/SEG-002/recordings/clip.mp4",
                       headers={**operator, **why},
                       params={"start": "2020-01-01T00:00:00Z", "end": "2020-01-01T00:10:00Z"})
    assert empty.status_code == 404 and "nothing was recorded" in empty.json()["error"]["message"]
    naive = client.get("/api/v1/cameras/SEG-002/recordings", headers=operator,
                       params={"start": "2026-11-25T00:00:00", "end": "2026-11-25T00:10:00"})
    assert naive.status_code == 422
    too_long = client.get("/api/v1/cameras/SEG-002/recordings", headers=operator,
                          params={"start": "2026-11-25T00:00:00Z", "end": "2026-11-25T05:00:00Z"})
    assert too_long.status_code == 422


def test_prometheus_metrics(client: TestClient) -> None:
    from sereno.video.messages import HealthReport
    from sereno.video.supervisor import HealthRegistry

    registry = HealthRegistry()
    registry.update(HealthReport("SEG-001", {
        "online": True, "fps": 4.8, "bitrate_kbps": 512.0, "last_frame_age_s": 0.2,
        "frames": 1200, "decode_errors": 3, "reconnects": 1}))
    client.app.state.video_health = registry  # type: ignore[attr-defined]
    response = client.get("/api/v1/metrics", headers=bearer(client, "supervisor.segura"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    body = response.text
    assert 'sereno_camera_online{camera="SEG-001"} 1.0' in body
    assert 'sereno_camera_fps{camera="SEG-001"} 4.8' in body
    assert 'sereno_camera_reconnects_total{camera="SEG-001"} 1.0' in body
    assert client.get("/api/v1/metrics",
                      headers=bearer(client, "operator.segura")).status_code == 403


def test_event_clips_are_cut_from_the_recording(client: TestClient, platform: Platform) -> None:
    import io
    import time

    import av

    from sereno.video.clipper import ClipCutter
    from tests.api.recordings import record_sample

    start, _end = record_sample(platform, "SEG-002")
    at = (start.timestamp() + 1) + 6  # six seconds into the 12 s recording
    event = platform.bus.handle(commands.RecordDetection(
        "SEG-002", None, "line", ("person",), (4,), 0.9, (0.1, 0.2, 0.3, 0.9), at))
    cutter = ClipCutter(platform.settings.recordings_root, platform.settings.media_root,
                        lambda event_id, key: platform.bus.handle(
                            commands.AttachEventClip(event_id, key)),
                        pre_s=3, post_s=3, wait_s=0, retry_s=0.2, give_up_s=5)
    operator = bearer(client, "operator.segura")
    before = client.get(f"/api/v1/detections/{event.event_id}/clip.mp4", headers=operator)
    assert before.status_code == 404 and "no clip yet" in before.json()["error"]["message"]
    with platform.event_stream.subscribe() as seen:
        cutter.start()
        cutter.schedule(event)
        deadline = time.monotonic() + 10
        while cutter.cut == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        cutter.stop()
        assert any(isinstance(e, events.EventClipReady) for e in seen)
    response = client.get(f"/api/v1/detections/{event.event_id}/clip.mp4", headers=operator)
    assert response.status_code == 200 and response.headers["content-type"] == "video/mp4"
    with av.open(io.BytesIO(response.content)) as container:
        duration = float(container.duration or 0) / av.time_base
    assert 5.5 <= duration <= 9.0  # 3 s before, 3 s after, starting on the keyframe before
    listed = client.get("/api/v1/detections?camera_id=SEG-002", headers=operator).json()
    assert listed[0]["clip_key"].endswith(f"{event.event_id}.mp4")


def test_per_camera_video_settings(client: TestClient, platform: Platform) -> None:
    from sereno.services.video import camera_specs

    admin = bearer(client, "admin.segura")
    for bad, needle in (({"detector": {"kind": "yolov8", "path": "/etc/passwd"}}, "relative"),
                        ({"detector": {"kind": "yolov8", "path": "../../x.onnx"}}, "relative"),
                        ({"detector": {"kind": "rcnn"}}, "kind"),
                        ({"record": "yes"}, "record"),
                        ({"retention_hours": 0}, "retention_hours"),
                        ({"colour": "red"}, "unknown video setting")):
        response = client.patch("/api/v1/cameras/SEG-002", json={"video": bad}, headers=admin)
        assert response.status_code == 422, bad
        assert needle in response.json()["error"]["message"]
    good = {"record": False, "detect_fps": 2, "retention_hours": 6,
            "detector": {"kind": "yolov8", "path": "vehiculos/yolov8n.onnx",
                         "classes": ["car", "truck"], "confidence": 0.4}}
    response = client.patch("/api/v1/cameras/SEG-002", json={"video": good}, headers=admin)
    assert response.status_code == 200 and response.json()["video"] == good
    police = bearer(client, "operator.policia")  # partners do not see a camera's set-up
    assert client.get("/api/v1/cameras/SEG-002", headers=police).json()["video"] == {}
    specs = {s.camera_id: s for s in camera_specs(
        platform.uow(), analytics_fps=2, detect_fps=1, transport="tcp",
        recordings_root="/srv/rec", models_dir="/srv/models")}
    assert specs["SEG-002"].record_url is None and specs["SEG-002"].detect_fps == 2
    assert specs["SEG-002"].detector == good["detector"]
    assert specs["SEG-001"].record_url is not None and specs["SEG-001"].detector is None
