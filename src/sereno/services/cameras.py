"""Camera registry use-cases: register, update, retire, import, list, read, export."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sereno.config import mask_url
from sereno.domain import commands, events
from sereno.domain.access import Permission, Principal
from sereno.domain.cameras import (
    EDITABLE_FIELDS,
    OPTICS_VALIDATORS,
    Camera,
    CameraStatus,
    Classification,
    validate_camera,
    validate_camera_id,
    validate_coordinates,
    validate_privacy_masks,
    validate_stream_url,
    validate_tags,
)
from sereno.domain.errors import AccessDenied, Conflict, InvalidInput, NotFound, RowError
from sereno.governance.policy.engine import Decision
from sereno.services.access_control import authorize_camera
from sereno.services.audit import Clock, record, refuse, require
from sereno.services.unit_of_work import UnitOfWork

OBJECT = "camera"


@dataclass(frozen=True)
class CameraFilter:
    """What the console's and the API's camera list can be narrowed by."""

    status: CameraStatus | None = None
    centre_id: str | None = None
    owner_agency_id: str | None = None
    tag: str | None = None
    text: str | None = None
    include_retired: bool = True

    def matches(self, camera: Camera) -> bool:
        if self.status is not None and camera.status is not self.status:
            return False
        if not self.include_retired and camera.is_retired:
            return False
        if self.centre_id and camera.centre_id != self.centre_id:
            return False
        if self.owner_agency_id and camera.owner_agency_id != self.owner_agency_id:
            return False
        if self.tag and self.tag.lower() not in camera.tags:
            return False
        if self.text:
            needle = self.text.lower()
            return needle in camera.id.lower() or needle in camera.name.lower()
        return True


@dataclass
class ImportReport:
    """Outcome of a bulk import: every rejected row with its reasons, or the ids imported."""

    total_rows: int
    imported: list[str] = field(default_factory=list)
    rejected: list[RowError] = field(default_factory=list)
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "total_rows": self.total_rows, "imported": self.imported,
            "imported_count": len(self.imported), "rejected_count": len(self.rejected),
            "rejected": [error.as_dict() for error in self.rejected], "dry_run": self.dry_run,
        }


# -- queries ------------------------------------------------------------------------------------

def list_cameras(uow: UnitOfWork, who: Principal, filters: CameraFilter | None = None,
                 *, action: str = "camera.list") -> list[Camera]:
    """Cameras the caller's agency may see (own + shared), narrowed by ``filters``."""
    with uow:
        require(uow, who, who.can(Permission.CAMERA_READ), action, object_type=OBJECT)
        found = [c for c in uow.cameras.visible_to_agency(who.agency_id)
                 if filters is None or filters.matches(c)]
        record(uow, who, action, object_type=OBJECT, detail={"count": len(found)})
        uow.commit()
        return found


def get_camera(uow: UnitOfWork, who: Principal, camera_id: str,
               *, action: str = "camera.read") -> Camera:
    """One camera, or ``NotFound`` when it does not exist or is another agency's private one."""
    with uow:
        camera = visible_or_refuse(uow, who, camera_id, action)
        record(uow, who, action, object_type=OBJECT, object_id=camera.id,
               object_agency_id=camera.owner_agency_id)
        uow.commit()
        return camera


def authorize_live_view(uow: UnitOfWork, who: Principal,
                        camera_id: str) -> tuple[Camera, Decision]:
    """Grant one look at live footage (a snapshot or a stream) through the policy door and
    record it; the caller then fetches it, honouring the decision's obligations."""
    action = "footage.live"
    with uow:
        camera = visible_or_refuse(uow, who, camera_id, action)
        decision = authorize_camera(uow, who, action, camera)
        if camera.is_retired:
            refuse(uow, who, action, Conflict("the camera is retired and streams nothing"),
                   object_type=OBJECT, object_id=camera.id,
                   object_agency_id=camera.owner_agency_id)
        record(uow, who, action, object_type=OBJECT, object_id=camera.id,
               object_agency_id=camera.owner_agency_id, detail=decision.audit_detail())
        uow.commit()
        return camera, decision


def export_geojson(uow: UnitOfWork, who: Principal,
                   filters: CameraFilter | None = None) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of the visible cameras (stream credentials masked)."""
    action = "camera.export"
    with uow:
        require(uow, who, who.can(Permission.CAMERA_EXPORT), action, object_type=OBJECT)
        found = [c for c in uow.cameras.visible_to_agency(who.agency_id)
                 if filters is None or filters.matches(c)]
        record(uow, who, action, object_type=OBJECT, detail={"count": len(found)})
        uow.commit()
        return {"type": "FeatureCollection",
                "features": [camera_feature(c, who) for c in found]}


def camera_feature(camera: Camera, who: Principal) -> dict[str, Any]:
    """One camera as a GeoJSON Feature (lon, lat order, as GeoJSON wants)."""
    properties = public_view(camera, who)
    properties.pop("latitude")
    properties.pop("longitude")
    return {"type": "Feature", "id": camera.id,
            "geometry": {"type": "Point", "coordinates": [camera.longitude, camera.latitude]},
            "properties": properties}


def public_view(camera: Camera, who: Principal) -> dict[str, Any]:
    """What ``who`` may read of a camera: partners do not see stream addresses or masks."""
    own = camera.owner_agency_id == who.agency_id
    return {
        "id": camera.id, "name": camera.name, "owner_agency": camera.owner_agency_id,
        "centre_id": camera.centre_id if own else None,
        "latitude": camera.latitude, "longitude": camera.longitude,
        "heading_deg": camera.heading_deg, "fov_deg": camera.fov_deg, "range_m": camera.range_m,
        # Stream URLs often carry "user:password@"; nobody reads the password back.
        "main_stream_url": mask_url(camera.main_stream_url) if own else None,
        "sub_stream_url": (mask_url(camera.sub_stream_url)
                           if own and camera.sub_stream_url else None),
        "status": camera.status.value, "classification": camera.classification.value,
        "tags": list(camera.tags), "privacy_masks": camera.privacy_masks if own else [],
        "video": dict(camera.video) if own else {},
        "created_at": camera.created_at.isoformat() if camera.created_at else None,
        "updated_at": camera.updated_at.isoformat() if camera.updated_at else None,
        "retired_at": camera.retired_at.isoformat() if camera.retired_at else None,
    }


# -- command handlers ---------------------------------------------------------------------------

def register_camera(cmd: commands.RegisterCamera, uow: UnitOfWork, clock: Clock) -> Camera:
    """Create a camera owned by the caller's agency, in one of its centres."""
    who, action = cmd.by, "camera.create"
    with uow:
        camera_id = str(cmd.fields.get("id", ""))
        require(uow, who, who.can(Permission.CAMERA_WRITE), action, object_type=OBJECT,
                object_id=camera_id or None)
        try:
            camera = _build_camera(cmd.fields, who.agency_id)
        except InvalidInput as error:
            refuse(uow, who, action, error, object_type=OBJECT, object_id=camera_id or None)
        _check_centre(uow, who, action, camera)
        if uow.cameras.get(camera.id) is not None:
            refuse(uow, who, action, Conflict(f"camera id {camera.id!r} is already registered"),
                   object_type=OBJECT, object_id=camera.id)
        camera.created_at = camera.updated_at = clock()
        uow.cameras.add(camera)
        record(uow, who, action, object_type=OBJECT, object_id=camera.id,
               object_agency_id=camera.owner_agency_id, now=camera.created_at)
        uow.emit(events.CameraRegistered(camera.id, camera.owner_agency_id))
        uow.commit()
        return camera


def update_camera(cmd: commands.UpdateCamera, uow: UnitOfWork, clock: Clock) -> Camera:
    """Change editable fields of an own camera; every rule is checked on the result."""
    who, action = cmd.by, "camera.update"
    with uow:
        camera = visible_or_refuse(uow, who, cmd.camera_id, action)
        changeable_or_refuse(uow, who, camera, action)
        unknown = sorted(set(cmd.changes) - set(EDITABLE_FIELDS))
        if unknown:
            refuse(uow, who, action, InvalidInput(f"fields not editable: {', '.join(unknown)}"),
                   object_type=OBJECT, object_id=camera.id,
                   object_agency_id=camera.owner_agency_id)
        if cmd.changes.get("status") == CameraStatus.RETIRED.value:
            refuse(uow, who, action, InvalidInput("retire a camera with the retire action"),
                   object_type=OBJECT, object_id=camera.id,
                   object_agency_id=camera.owner_agency_id)
        try:
            for name, value in _coerce(cmd.changes).items():
                setattr(camera, name, value)
            validate_camera(camera)
        except InvalidInput as error:
            refuse(uow, who, action, error, object_type=OBJECT, object_id=camera.id,
                   object_agency_id=camera.owner_agency_id)
        _check_centre(uow, who, action, camera)
        camera.updated_at = clock()
        changed = tuple(sorted(cmd.changes))
        record(uow, who, action, object_type=OBJECT, object_id=camera.id,
               object_agency_id=camera.owner_agency_id, detail={"changed": list(changed)},
               now=camera.updated_at)
        uow.emit(events.CameraUpdated(camera.id, camera.owner_agency_id, changed))
        uow.commit()
        return camera


def retire_camera(cmd: commands.RetireCamera, uow: UnitOfWork, clock: Clock) -> Camera:
    """Take a camera out of service for good; it stays in the registry for the record."""
    who, action = cmd.by, "camera.retire"
    with uow:
        camera = visible_or_refuse(uow, who, cmd.camera_id, action)
        changeable_or_refuse(uow, who, camera, action)
        if camera.is_retired:
            refuse(uow, who, action, Conflict(f"camera {camera.id!r} is already retired"),
                   object_type=OBJECT, object_id=camera.id,
                   object_agency_id=camera.owner_agency_id)
        camera.status = CameraStatus.RETIRED
        camera.retired_at = camera.updated_at = clock()
        record(uow, who, action, object_type=OBJECT, object_id=camera.id,
               object_agency_id=camera.owner_agency_id, now=camera.retired_at)
        uow.emit(events.CameraRetired(camera.id, camera.owner_agency_id))
        uow.commit()
        return camera


def import_cameras(cmd: commands.ImportCameras, uow: UnitOfWork, clock: Clock) -> ImportReport:
    """All rows or none. Every row is checked; the report names each rejected row and why."""
    who, action = cmd.by, "camera.import"
    report = ImportReport(total_rows=len(cmd.rows), dry_run=cmd.dry_run)
    with uow:
        require(uow, who, who.can(Permission.CAMERA_WRITE), action, object_type=OBJECT)
        own_centres = {c.id for c in uow.centres.list_for_agency(who.agency_id)}
        ids = [str(row.get("id") or "") for row in cmd.rows]
        taken = uow.cameras.existing_ids([i for i in ids if i])
        seen: set[str] = set()
        built: list[Camera] = []
        for number, row in enumerate(cmd.rows, start=1):
            errors = _row_errors(number, row, who.agency_id, own_centres, taken, seen)
            if errors:
                report.rejected.extend(errors)
                continue
            built.append(_build_camera(row, who.agency_id))
        if not cmd.rows:
            report.rejected.append(RowError(0, None, "file", "no camera rows found"))
        detail = {"source": cmd.source_name, **report.as_dict()}
        if report.rejected:
            message = (f"{len(report.rejected)} problem(s) in {report.total_rows} row(s); "
                       "nothing was imported")
            refuse(uow, who, action, InvalidInput(message, details=detail["rejected"]),
                   object_type=OBJECT, detail=detail)
        if cmd.dry_run:
            record(uow, who, action, object_type=OBJECT, detail=detail)
            uow.commit()
            return report
        now = clock()
        for camera in built:
            camera.created_at = camera.updated_at = now
            uow.cameras.add(camera)
            report.imported.append(camera.id)
        record(uow, who, action, object_type=OBJECT, now=now,
               object_agency_id=who.agency_id,
               detail={"source": cmd.source_name, "imported": report.imported})
        uow.emit(events.CamerasImported(who.agency_id, tuple(report.imported)))
        uow.commit()
        return report


def record_stream_probe(cmd: commands.RecordStreamProbe, uow: UnitOfWork,
                        clock: Clock) -> Camera | None:
    """Update a camera's status from a stream probe; audited only when the status changes."""
    with uow:
        camera = uow.cameras.get(cmd.camera_id)
        if camera is None:
            return None
        changed = camera.observe_stream(cmd.error is None)
        if changed is None:
            return camera
        camera.updated_at = clock()
        reason = cmd.error or "stream answered"
        record(uow, Principal.system("stream-health", camera.owner_agency_id), "camera.health",
               object_type=OBJECT, object_id=camera.id, object_agency_id=camera.owner_agency_id,
               reason=reason[:500], detail={"status": changed.value}, now=camera.updated_at)
        uow.emit(events.CameraStatusChanged(camera.id, camera.owner_agency_id, changed.value,
                                            reason))
        uow.commit()
        return camera


def active_camera_streams(uow: UnitOfWork) -> list[tuple[str, str]]:
    """(camera id, analytics stream URL) of every camera not retired, for system workers."""
    with uow:
        return [(c.id, c.analytics_stream_url) for c in uow.cameras.all_active()]


# -- helpers ------------------------------------------------------------------------------------

_NUMBER_FIELDS = ("latitude", "longitude", "heading_deg", "fov_deg", "range_m")


def _coerce(values: dict[str, Any]) -> dict[str, Any]:
    """Turn loosely typed values (CSV strings, JSON) into the types the domain wants."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name in _NUMBER_FIELDS:
            if isinstance(value, bool) or value is None or value == "":
                raise InvalidInput(f"{name} must be a number", details=[{"field": name}])
            try:
                out[name] = float(value)
            except (TypeError, ValueError):
                raise InvalidInput(f"{name} must be a number, not {value!r}",
                                   details=[{"field": name}]) from None
        elif name == "status":
            try:
                out[name] = CameraStatus(value)
            except ValueError:
                raise InvalidInput(f"unknown status {value!r}",
                                   details=[{"field": name}]) from None
        elif name == "classification":
            try:
                out[name] = Classification(value)
            except ValueError:
                raise InvalidInput(f"unknown classification {value!r}",
                                   details=[{"field": name}]) from None
        elif name == "sub_stream_url":
            out[name] = value or None
        elif name in ("tags", "privacy_masks"):
            out[name] = list(value or [])
        elif name == "video":
            out[name] = dict(value or {})
        else:
            out[name] = value
    return out


def _build_camera(fields: dict[str, Any], owner_agency_id: str) -> Camera:
    missing = [n for n in ("id", "name", "centre_id", "latitude", "longitude", "main_stream_url")
               if fields.get(n) in (None, "")]
    if missing:
        raise InvalidInput(f"missing required field(s): {', '.join(missing)}",
                           details=[{"field": n} for n in missing])
    unknown = sorted(set(fields) - set(EDITABLE_FIELDS) - {"id"})
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(unknown)}",
                           details=[{"field": n} for n in unknown])
    values = _coerce({k: v for k, v in fields.items() if k != "id"})
    if values.get("status") is CameraStatus.RETIRED:
        raise InvalidInput("a new camera cannot start retired", details=[{"field": "status"}])
    camera = Camera(id=str(fields["id"]), owner_agency_id=owner_agency_id, **values)
    validate_camera(camera)
    return camera


def _row_errors(number: int, row: dict[str, Any], agency_id: str, own_centres: set[str],
                taken: set[str], seen: set[str]) -> list[RowError]:
    """Every reason to reject one import row, each field checked on its own."""
    camera_id = str(row.get("id") or "") or None
    errors: list[RowError] = []

    def check(field_name: str, validate: Callable[[], object]) -> None:
        try:
            validate()
        except InvalidInput as error:
            errors.append(RowError(number, camera_id, field_name, error.message))

    for name in ("id", "name", "centre_id", "latitude", "longitude", "main_stream_url"):
        if row.get(name) in (None, ""):
            errors.append(RowError(number, camera_id, name, f"missing {name}"))
    unknown = sorted(set(row) - set(EDITABLE_FIELDS) - {"id"})
    if unknown:
        errors.append(RowError(number, camera_id, unknown[0],
                               f"unknown field(s): {', '.join(unknown)}"))
    if camera_id is not None:
        check("id", lambda: validate_camera_id(camera_id))
        if camera_id in taken:
            errors.append(RowError(number, camera_id, "id", "duplicate id: already registered"))
        elif camera_id in seen:
            errors.append(RowError(number, camera_id, "id", "duplicate id: repeated in file"))
        seen.add(camera_id)
    centre = row.get("centre_id")
    if centre and centre not in own_centres:
        errors.append(RowError(number, camera_id, "centre_id",
                               f"unknown centre {centre!r} (not one of your agency's)"))
    if row.get("latitude") not in (None, "") and row.get("longitude") not in (None, ""):
        check("coordinates", lambda: validate_coordinates(
            *(_coerce({"latitude": row["latitude"], "longitude": row["longitude"]}).values())))
    for url_field in ("main_stream_url", "sub_stream_url"):
        if row.get(url_field):
            check(url_field, partial(validate_stream_url, row[url_field], field_name=url_field))
    for name in ("heading_deg", "fov_deg", "range_m", "status", "classification"):
        if row.get(name) not in (None, ""):
            check(name, partial(_coerce, {name: row[name]}))
            if name in OPTICS_VALIDATORS and not any(e.field == name for e in errors):
                check(name, partial(_check_optic, name, row[name]))
    check("tags", lambda: validate_tags(list(row.get("tags") or [])))
    check("privacy_masks", lambda: validate_privacy_masks(list(row.get("privacy_masks") or [])))
    if not errors:  # the per-field checks passed; the whole-camera rules remain
        check("row", lambda: _build_camera(row, agency_id))
    return errors


def _check_optic(name: str, value: Any) -> float:
    return OPTICS_VALIDATORS[name](_coerce({name: value})[name])


def visible_or_refuse(uow: UnitOfWork, who: Principal, camera_id: str, action: str) -> Camera:
    camera = uow.cameras.get(camera_id)
    if camera is None:
        refuse(uow, who, action, NotFound(f"no camera {camera_id!r}"), object_type=OBJECT,
               object_id=camera_id)
    if not camera.visible_to(who):
        refuse(uow, who, action, NotFound(f"no camera {camera_id!r}"), object_type=OBJECT,
               object_id=camera_id, object_agency_id=camera.owner_agency_id,
               internal_reason="camera is private to another agency or role lacks read")
    return camera


def changeable_or_refuse(uow: UnitOfWork, who: Principal, camera: Camera, action: str) -> None:
    if not camera.changeable_by(who):
        why = ("only the owner agency changes a camera"
               if who.agency_id != camera.owner_agency_id
               else "your roles or token do not allow changing cameras")
        refuse(uow, who, action, AccessDenied(why), object_type=OBJECT, object_id=camera.id,
               object_agency_id=camera.owner_agency_id)


def _check_centre(uow: UnitOfWork, who: Principal, action: str, camera: Camera) -> None:
    centre = uow.centres.get(camera.centre_id)
    if centre is None or centre.agency_id != who.agency_id:
        refuse(uow, who, action,
               InvalidInput(f"unknown centre {camera.centre_id!r} (not one of your agency's)",
                            details=[{"field": "centre_id"}]),
               object_type=OBJECT, object_id=camera.id)
