"""Request and response bodies. Unknown fields are refused, so a client cannot slip in an agency."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    error: ErrorBody


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 — the OAuth2 token type
    expires_in: int
    scope: str


Point = tuple[float, float]


class CameraIn(Strict):
    """A new camera. The owner agency is the caller's; it is not a field."""

    id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    centre_id: str = Field(min_length=1, max_length=64)
    latitude: float
    longitude: float
    heading_deg: float = 0.0
    fov_deg: float = 60.0
    range_m: float = 50.0
    main_stream_url: str = Field(min_length=1, max_length=2048)
    sub_stream_url: str | None = Field(default=None, max_length=2048)
    status: Literal["online", "offline", "degraded", "maintenance"] = "offline"
    classification: Literal["shared", "private"] = "private"
    tags: list[str] = Field(default_factory=list, max_length=32)
    privacy_masks: list[list[Point]] = Field(default_factory=list, max_length=16)
    video: dict[str, Any] = Field(default_factory=dict, description=(
        "analytics/record (bool), detect_fps, retention_hours, retention_mb, detector "
        "(kind, path relative to the models folder, classes, confidence, sha256)"))


class CameraPatch(Strict):
    """Fields to change; absent fields stay as they are."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    centre_id: str | None = Field(default=None, min_length=1, max_length=64)
    latitude: float | None = None
    longitude: float | None = None
    heading_deg: float | None = None
    fov_deg: float | None = None
    range_m: float | None = None
    main_stream_url: str | None = Field(default=None, min_length=1, max_length=2048)
    sub_stream_url: str | None = Field(default=None, max_length=2048)
    status: Literal["online", "offline", "degraded", "maintenance"] | None = None
    classification: Literal["shared", "private"] | None = None
    tags: list[str] | None = Field(default=None, max_length=32)
    privacy_masks: list[list[Point]] | None = Field(default=None, max_length=16)
    video: dict[str, Any] | None = None


class CameraOut(BaseModel):
    id: str
    name: str
    owner_agency: str
    centre_id: str | None
    latitude: float
    longitude: float
    heading_deg: float
    fov_deg: float
    range_m: float
    main_stream_url: str | None
    sub_stream_url: str | None
    status: str
    classification: str
    tags: list[str]
    privacy_masks: list[list[list[float]]]
    video: dict[str, Any]
    created_at: str | None
    updated_at: str | None
    retired_at: str | None


class CameraList(BaseModel):
    items: list[CameraOut]
    count: int


class RowErrorOut(BaseModel):
    row: int
    camera_id: str | None
    field: str
    reason: str


class ImportReportOut(BaseModel):
    total_rows: int
    imported: list[str]
    imported_count: int
    rejected_count: int
    rejected: list[RowErrorOut]
    dry_run: bool


class AgencyOut(BaseModel):
    id: str
    name: str
    kind: str


class CentreOut(BaseModel):
    id: str
    agency_id: str
    name: str
    latitude: float | None
    longitude: float | None


class UserIn(Strict):
    """A new account in the caller's agency."""

    username: str = Field(min_length=3, max_length=64)
    display_name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=256)
    roles: list[str] = Field(min_length=1, max_length=6)


class UserPatch(Strict):
    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    roles: list[str] | None = Field(default=None, min_length=1, max_length=6)
    disabled: bool | None = None
    password: str | None = Field(default=None, min_length=1, max_length=256)


class UserOut(BaseModel):
    id: str
    username: str
    display_name: str
    agency: str
    roles: list[str]
    disabled: bool
    locked_until: datetime | None
    second_factor: bool = Field(description="an authenticator app (TOTP) is enrolled")
    second_factor_required: bool = Field(description="a role of the user requires one")
    password_changed_at: datetime | None = None


class PasswordChangeIn(Strict):
    """The caller's own password change: the current one proves it is them."""

    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class MeOut(UserOut):
    permissions: list[str]
    channel: str


class AuditOut(BaseModel):
    id: int
    at: datetime
    action: str
    outcome: str
    actor_user_id: str | None
    actor_username: str | None
    actor_agency_id: str | None
    actor_roles: str | None
    channel: str
    address: str | None
    object_type: str | None
    object_id: str | None
    object_agency_id: str | None
    purpose: str | None
    reason: str | None
    detail: dict[str, Any]


class AuditList(BaseModel):
    items: list[AuditOut]
    next_before_id: int | None
