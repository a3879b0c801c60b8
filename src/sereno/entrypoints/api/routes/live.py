"""Live footage and live events: MJPEG per camera, Server-Sent Events of detections and
camera state, and the stored snapshot of a detection."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from sereno.domain import events
from sereno.domain.errors import InvalidInput, NotFound
from sereno.domain.evidence import IssueKind
from sereno.entrypoints.api.context import Caller, platform_of, still_authenticated
from sereno.entrypoints.api.schemas import ErrorResponse
from sereno.services import cameras as camera_service
from sereno.services import footage_release, video
from sereno.video.recording.clips import NoFootageError, stream_clip
from sereno.video.recording.index import SegmentIndex

router = APIRouter(tags=["live"])
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (401, 403, 404, 409)}
RECHECK_S = 30.0
BOUNDARY = "sereno-frame"
LIVE_EVENTS = (events.DetectionEvent, events.CameraStatusChanged, events.VideoQualityChanged,
               events.EventClipReady, events.TracksUpdated)


@router.get("/cameras/{camera_id}/live.mjpeg", responses={
    **ERRORS, 200: {"content": {f"multipart/x-mixed-replace; boundary={BOUNDARY}": {}}}})
def live_mjpeg(request: Request, caller: Caller, camera_id: str) -> StreamingResponse:
    """The camera live, as MJPEG, privacy masks blanked. Opening it is an audited access; the
    credential is checked again every 30 s, so logging out ends the stream."""
    platform = platform_of(request)
    camera, decision = camera_service.authorize_live_view(platform.uow(), caller, camera_id)
    # Every frame: overlay (user, time); for a partner agency also the session's watermark.
    marker = footage_release.live_marker(platform.uow(), caller, camera, decision,
                                         platform.settings.data_dir, platform.clock)
    hub = request.app.state.live_hub

    def parts() -> Iterator[bytes]:
        recheck = time.monotonic() + RECHECK_S
        for jpeg in hub.frames(camera.id, camera.analytics_stream_url, camera.privacy_masks):
            if time.monotonic() > recheck:
                if not still_authenticated(request):
                    return
                recheck = time.monotonic() + RECHECK_S
            jpeg = marker.mark(jpeg)
            yield (f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                   f"Content-Length: {len(jpeg)}\r\n\r\n").encode() + jpeg + b"\r\n"

    return StreamingResponse(parts(),
                             media_type=f"multipart/x-mixed-replace; boundary={BOUNDARY}",
                             headers={"Cache-Control": "no-store"})


def _json(event: events.Event) -> str:
    def default(value: object) -> str:
        if isinstance(value, datetime):
            return value.isoformat()
        raise TypeError(type(value).__name__)

    return json.dumps(asdict(event), default=default, ensure_ascii=False)  # type: ignore[call-overload]


@router.get("/events", responses={**ERRORS, 200: {"content": {"text/event-stream": {}}}})
async def live_events(request: Request, caller: Caller) -> StreamingResponse:
    """Server-Sent Events: detections, camera status and video-quality changes of the cameras
    the caller may see."""
    platform = platform_of(request)
    visible = await asyncio.to_thread(video.open_event_stream, platform.uow(), caller)

    async def stream() -> AsyncIterator[str]:
        yield "retry: 3000\n\n"
        recheck = keepalive = time.monotonic()
        with platform.event_stream.subscribe() as queue:
            while not await request.is_disconnected():
                while queue:
                    event = queue.popleft()
                    if isinstance(event, LIVE_EVENTS) and event.camera_id in visible and (
                            not isinstance(event, events.DetectionEvent)
                            or event.shown_to(caller.agency_id)):
                        yield f"event: {type(event).__name__}\ndata: {_json(event)}\n\n"
                now = time.monotonic()
                if now - keepalive > 15:
                    keepalive = now
                    yield ": keepalive\n\n"
                if now - recheck > RECHECK_S:
                    recheck = now
                    if not await asyncio.to_thread(still_authenticated, request):
                        return
                await asyncio.sleep(0.25)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.get("/detections/{event_id}/snapshot.jpg", responses={
    **ERRORS, 200: {"content": {"image/jpeg": {}}}})
def detection_snapshot(request: Request, caller: Caller, event_id: str) -> Response:
    """The annotated picture stored with a detection (an audited access to footage)."""
    platform = platform_of(request)
    release = video.release_detection_snapshot(platform.uow(), caller, event_id)
    data = platform.media.get(release.key)
    if data is None:
        raise NotFound("the snapshot file is missing from the media store")
    marker = footage_release.live_marker(platform.uow(), caller, release.camera,
                                         release.decision, platform.settings.data_dir,
                                         platform.clock, kind=IssueKind.DETECTION_SNAPSHOT,
                                         overlay=False)
    return Response(marker.mark(data), media_type="image/jpeg",
                    headers={"Cache-Control": "no-store"})


@router.get("/detections/{event_id}/clip.mp4", responses={
    **ERRORS, 200: {"content": {"video/mp4": {}}}})
def detection_clip(request: Request, caller: Caller, event_id: str) -> Response:
    """The clip around a detection (pre/post roll), cut from the recording by packet copy; an
    audited access to footage."""
    platform = platform_of(request)
    release = video.release_detection_clip(platform.uow(), caller, event_id)
    data = platform.media.get(release.key)
    if data is None:
        raise NotFound("the clip file is missing from the media store")
    marker = footage_release.live_marker(platform.uow(), caller, release.camera,
                                         release.decision, platform.settings.data_dir,
                                         platform.clock, kind=IssueKind.DETECTION_CLIP,
                                         overlay=False)
    return Response(marker.mark_video(data), media_type="video/mp4",
                    headers={"Cache-Control": "no-store"})


class SegmentOut(BaseModel):
    start: datetime
    end: datetime
    duration_s: float
    bytes: int
    discontinuity: bool


def _range(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("start and end need a time zone (e.g. 2026-11-25T03:00:00-05:00)")
    return start.astimezone(UTC), end.astimezone(UTC)


@router.get("/cameras/{camera_id}/recordings", response_model=list[SegmentOut],
            responses=ERRORS)
def list_recordings(request: Request, caller: Caller, camera_id: str, start: datetime,
                    end: datetime) -> list[SegmentOut]:
    """Recorded segments of a camera overlapping [start, end) (at most one hour)."""
    start, end = _range(start, end)
    platform = platform_of(request)
    camera = video.authorize_playback(platform.uow(), caller, camera_id, start, end,
                                      action="recording.list")
    index = SegmentIndex(platform.settings.recordings_root, camera.id)
    return [SegmentOut(start=s.start_utc, end=s.end_utc, duration_s=s.duration_s,
                       bytes=s.file_size, discontinuity=s.discontinuity)
            for s in index.overlapping(start, end)]


@router.get("/cameras/{camera_id}/recordings/clip.mp4", responses={
    **ERRORS, 200: {"content": {"video/mp4": {}}}})
def play_recording(request: Request, caller: Caller, camera_id: str, start: datetime,
                   end: datetime) -> StreamingResponse:
    """The recording of [start, end) as one MP4, packets copied, never re-encoded. An audited
    access to footage (give the purpose in ``X-Sereno-Purpose``)."""
    start, end = _range(start, end)
    platform = platform_of(request)
    camera = video.authorize_playback(platform.uow(), caller, camera_id, start, end)
    index = SegmentIndex(platform.settings.recordings_root, camera.id)
    try:
        body = stream_clip(index, start, end)
    except NoFootageError as error:
        raise NotFound(f"nothing was recorded between {start:%H:%M:%S} and {end:%H:%M:%S} "
                       f"UTC: {error}") from None
    return StreamingResponse(body, media_type="video/mp4",
                             headers={"Cache-Control": "no-store"})
