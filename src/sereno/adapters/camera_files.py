"""Reading and writing camera registry files: CSV and GeoJSON.

Parsing turns a file into raw rows (dicts); the camera use-cases decide what a row may hold.
A file that cannot be parsed at all raises ``InvalidInput`` with a precise message.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sereno.domain.errors import InvalidInput

CSV_COLUMNS = ["id", "name", "centre_id", "latitude", "longitude", "heading_deg", "fov_deg",
               "range_m", "main_stream_url", "sub_stream_url", "status", "classification",
               "tags", "privacy_masks"]
MAX_ROWS = 10_000


def parse_csv(text: str) -> list[dict[str, Any]]:
    """Header row required. ``tags`` is ``;``-separated; ``privacy_masks`` is JSON."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames:
        raise InvalidInput("the CSV file has no header row")
    header = [name.strip() for name in reader.fieldnames]
    unknown = sorted(set(header) - set(CSV_COLUMNS))
    if unknown:
        raise InvalidInput(f"unknown CSV column(s): {', '.join(unknown)}; "
                           f"expected some of: {', '.join(CSV_COLUMNS)}")
    rows: list[dict[str, Any]] = []
    for raw in reader:
        if len(rows) >= MAX_ROWS:
            raise InvalidInput(f"at most {MAX_ROWS} rows per import")
        if None in raw:
            raise InvalidInput(f"CSV line {reader.line_num} has more cells than the header")
        row: dict[str, Any] = {}
        for key, value in raw.items():
            name, cell = key.strip(), (value or "").strip()
            if cell == "":
                continue
            if name == "tags":
                row[name] = [t for t in (part.strip() for part in cell.split(";")) if t]
            elif name == "privacy_masks":
                try:
                    row[name] = json.loads(cell)
                except json.JSONDecodeError:
                    row[name] = cell  # reported per row by the validation
            else:
                row[name] = cell
        if row:
            rows.append(row)
    return rows


def parse_geojson(text: str) -> list[dict[str, Any]]:
    """A FeatureCollection of Point features; properties carry the other fields."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(f"the GeoJSON is not valid JSON: {error.msg} at line {error.lineno}, "
                           f"column {error.colno}") from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise InvalidInput("the GeoJSON must be a FeatureCollection")
    features = document.get("features")
    if not isinstance(features, list):
        raise InvalidInput("the FeatureCollection has no 'features' list")
    if len(features) > MAX_ROWS:
        raise InvalidInput(f"at most {MAX_ROWS} features per import")
    rows: list[dict[str, Any]] = []
    for feature in features:
        row: dict[str, Any] = {}
        if isinstance(feature, dict):
            properties = feature.get("properties") or {}
            if isinstance(properties, dict):
                row.update({k: v for k, v in properties.items()
                            if k not in ("owner_agency", "created_at", "updated_at",
                                         "retired_at") and v is not None})
            if feature.get("id") is not None and "id" not in row:
                row["id"] = str(feature["id"])
            geometry = feature.get("geometry") or {}
            coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
            if (isinstance(geometry, dict) and geometry.get("type") == "Point"
                    and isinstance(coordinates, list) and len(coordinates) >= 2):
                row["longitude"], row["latitude"] = coordinates[0], coordinates[1]
        rows.append(row)
    return rows


def parse_camera_file(data: bytes, kind: str) -> list[dict[str, Any]]:
    """Decode (UTF-8) and parse ``data`` as ``kind`` ("csv" or "geojson")."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("the file is not UTF-8 text") from None
    if kind == "csv":
        return parse_csv(text)
    if kind == "geojson":
        return parse_geojson(text)
    raise InvalidInput(f"unknown import format {kind!r}; use csv or geojson")


def kind_from_name(filename: str) -> str:
    """Guess the format from a file name."""
    lower = filename.lower()
    if lower.endswith((".geojson", ".json")):
        return "geojson"
    if lower.endswith(".csv"):
        return "csv"
    raise InvalidInput(f"cannot tell the format of {filename!r}; name it .csv or .geojson")
