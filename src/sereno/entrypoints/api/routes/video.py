"""Camera rules, detection events and stream health."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from sereno.domain import commands
from sereno.domain.errors import InvalidInput
from sereno.domain.events import DetectionEvent
from sereno.domain.rules import CameraRule, schedule_to_dict
from sereno.entrypoints.api.context import Caller, platform_of
from sereno.entrypoints.api.schemas import ErrorResponse, Strict
from sereno.services import video

router = APIRouter(tags=["video"])
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 409, 422)}
Point = tuple[float, float]


class ScheduleWindowIn(Strict):
    days: list[int] = Field(min_length=1, max_length=7)
    start: str = Field(pattern=r"^\d{2}:\d{2}$")
    end: str = Field(pattern=r"^\d{2}:\d{2}$")


class ScheduleIn(Strict):
    timezone: str = "America/Guayaquil"
    windows: list[ScheduleWindowIn] = Field(default_factory=list, max_length=14)


class RuleIn(Strict):
    """A rule; geometry in image fractions (0..1), x right, y down."""

    name: str | None = Field(default=None, max_length=120)
    kind: Literal["zone", "line", "loiter", "crowd"]
    points: list[Point] = Field(min_length=2, max_length=64)
    classes: list[str] = Field(default_factory=lambda: ["person"], min_length=1, max_length=20)
    direction: Literal["any", "left_to_right", "right_to_left"] = "any"
    dwell_s: float = 30.0
    min_count: int = 5
    cooldown_s: float = 30.0
    schedule: ScheduleIn | None = None
    enabled: bool = True


class RulePatch(Strict):
    name: str | None = Field(default=None, max_length=120)
    points: list[Point] | None = Field(default=None, min_length=2, max_length=64)
    classes: list[str] | None = Field(default=None, min_length=1, max_length=20)
    direction: Literal["any", "left_to_right", "right_to_left"] | None = None
    dwell_s: float | None = None
    min_count: int | None = None
    cooldown_s: float | None = None
    schedule: ScheduleIn | None = None
    enabled: bool | None = None


class RuleOut(BaseModel):
    id: str
    camera_id: str
    name: str
    kind: str
    points: list[list[float]]
    classes: list[str]
    direction: str
    dwell_s: float
    min_count: int
    cooldown_s: float
    schedule: dict[str, Any]
    enabled: bool


class DetectionOut(BaseModel):
    id: str
    camera_id: str
    owner_agency: str
    rule_id: str | None
    rule_kind: str
    classes: list[str]
    track_ids: list[int]
    confidence: float
    box: list[float]
    snapshot_key: str | None
    clip_key: str | None
    at: datetime


class HealthOut(BaseModel):
    camera_id: str
    status: str
    stream: dict[str, Any] | None = Field(
        description="the ingest worker's last report; null when no worker reports this camera")


def _rule_out(rule: CameraRule) -> RuleOut:
    return RuleOut(id=rule.id, camera_id=rule.camera_id, name=rule.name, kind=rule.kind.value,
                   points=rule.points, classes=list(rule.classes),
                   direction=rule.direction.value, dwell_s=rule.dwell_s,
                   min_count=rule.min_count, cooldown_s=rule.cooldown_s,
                   schedule=schedule_to_dict(rule.schedule), enabled=rule.enabled)


def _detection_out(event: DetectionEvent) -> DetectionOut:
    return DetectionOut(id=event.event_id, camera_id=event.camera_id,
                        owner_agency=event.owner_agency_id, rule_id=event.rule_id,
                        rule_kind=event.rule_kind, classes=list(event.classes),
                        track_ids=list(event.track_ids), confidence=event.confidence,
                        box=list(event.box), snapshot_key=event.snapshot_key,
                        clip_key=event.clip_key, at=event.at)


def _body(model: BaseModel, *, exclude_unset: bool) -> dict[str, Any]:
    data = model.model_dump(exclude_unset=exclude_unset)
    if data.get("schedule") is None:
        data.pop("schedule", None)
    return data


@router.get("/cameras/{camera_id}/rules", response_model=list[RuleOut], responses=ERRORS)
def list_rules(request: Request, caller: Caller, camera_id: str) -> list[RuleOut]:
    """The analytics rules of one of the caller's agency's cameras."""
    return [_rule_out(r) for r in video.list_rules(platform_of(request).uow(), caller, camera_id)]


@router.post("/cameras/{camera_id}/rules", response_model=RuleOut, status_code=201,
             responses=ERRORS)
def create_rule(request: Request, caller: Caller, camera_id: str, body: RuleIn) -> RuleOut:
    """Add a zone, line, loitering or crowd rule to an own camera."""
    rule = platform_of(request).bus.handle(
        commands.CreateRule(caller, camera_id, _body(body, exclude_unset=False)))
    return _rule_out(rule)


@router.patch("/cameras/{camera_id}/rules/{rule_id}", response_model=RuleOut, responses=ERRORS)
def update_rule(request: Request, caller: Caller, camera_id: str, rule_id: str,
                body: RulePatch) -> RuleOut:
    """Change a rule."""
    changes = _body(body, exclude_unset=True)
    if not changes:
        raise InvalidInput("nothing to change: send at least one field")
    return _rule_out(platform_of(request).bus.handle(
        commands.UpdateRule(caller, camera_id, rule_id, changes)))


@router.delete("/cameras/{camera_id}/rules/{rule_id}", status_code=204, responses=ERRORS)
def delete_rule(request: Request, caller: Caller, camera_id: str, rule_id: str) -> None:
    """Remove a rule."""
    platform_of(request).bus.handle(commands.DeleteRule(caller, camera_id, rule_id))


@router.get("/detections", response_model=list[DetectionOut], responses=ERRORS)
def list_detections(
    request: Request, caller: Caller,
    camera_id: Annotated[str | None, Query(max_length=64)] = None,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DetectionOut]:
    """Recent rule matches on the cameras the caller may see, newest first."""
    found = video.list_detections(platform_of(request).uow(), caller, camera_id=camera_id,
                                  since=since, limit=limit)
    return [_detection_out(e) for e in found]


@router.get("/cameras/{camera_id}/health", response_model=HealthOut, responses=ERRORS)
def camera_health(request: Request, caller: Caller, camera_id: str) -> HealthOut:
    """Stream health: online, measured fps and bitrate, last-frame age, errors, reconnects."""
    camera = video.read_camera_health(platform_of(request).uow(), caller, camera_id)
    registry = getattr(request.app.state, "video_health", None)
    stream = registry.get(camera.id) if registry is not None else None
    return HealthOut(camera_id=camera.id, status=camera.status.value, stream=stream)
