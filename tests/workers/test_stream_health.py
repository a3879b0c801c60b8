"""The stream health worker probes real streams and keeps camera statuses true."""

from __future__ import annotations

from sereno.adapters.video.snapshots import SnapshotGrabber
from sereno.bootstrap import Platform
from sereno.domain import events
from sereno.entrypoints.workers.stream_health import probe_all
from tests.conftest import audit_rows


def _status(platform: Platform, camera_id: str) -> str:
    with platform.uow() as uow:
        camera = uow.cameras.get(camera_id)
    assert camera is not None
    return camera.status.value


def _set_url(platform: Platform, camera_id: str, url: str) -> None:
    with platform.uow() as uow:
        camera = uow.cameras.get(camera_id)
        assert camera is not None
        camera.main_stream_url = camera.sub_stream_url = url
        uow.commit()


def test_statuses_follow_the_streams(platform: Platform) -> None:
    grabber = SnapshotGrabber(platform.settings.media.allowed_file_roots, open_timeout_s=2)
    good_url = platform.settings.media.allowed_file_roots[0].resolve().joinpath(
        "synthetic-street.mp4").as_uri()
    first = probe_all(platform, grabber.probe)
    assert first["SEG-001"] is None
    assert "cannot read the stream" in (first["SEG-010"] or "")  # nothing listens there
    assert _status(platform, "SEG-010") == "offline"

    with platform.event_stream.subscribe() as seen:
        _set_url(platform, "SEG-002", "file:///nonexistent/clip.mp4")
        _set_url(platform, "SEG-009", "file:///nonexistent/clip.mp4")  # in maintenance
        _set_url(platform, "SEG-010", good_url)
        probe_all(platform, grabber.probe)
        assert _status(platform, "SEG-002") == "offline"
        assert _status(platform, "SEG-009") == "maintenance"  # people set that; left alone
        assert _status(platform, "SEG-010") == "online"
        changes = {(e.camera_id, e.status) for e in seen
                   if isinstance(e, events.CameraStatusChanged)}
    assert changes == {("SEG-002", "offline"), ("SEG-010", "online")}
    health = [r for r in audit_rows(platform) if r.action == "camera.health"]
    assert {(r.object_id, r.detail["status"]) for r in health} == changes
    assert all(r.channel == "system" and r.actor_username == "system:stream-health"
               for r in health)

    # A quiet round (nothing changed) writes nothing.
    before = len(audit_rows(platform))
    probe_all(platform, grabber.probe)
    assert len(audit_rows(platform)) == before
