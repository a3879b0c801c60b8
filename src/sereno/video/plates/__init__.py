"""Licence-plate reading (PP-OCRv4 on regions of a frame) and watchlist matching.

``PlateReader`` finds and reads plate text inside given regions; ``parse_plate`` turns OCR text
into a normalised Ecuadorian plate or rejects it; ``Watchlist`` matches reads against wanted
plates exactly or within an edit distance. See ``docs/video/plates.md``.
"""

from typing import Any

from sereno.video.plates.text import PlateText, display_plate, normalise_plate, parse_plate
from sereno.video.plates.watchlist import (
    Watchlist,
    WatchlistEntry,
    WatchlistError,
    WatchlistHit,
    edit_distance,
)

__all__ = [
    "PlateRead",
    "PlateReader",
    "PlateText",
    "Watchlist",
    "WatchlistEntry",
    "WatchlistError",
    "WatchlistHit",
    "display_plate",
    "edit_distance",
    "normalise_plate",
    "parse_plate",
]


def __getattr__(name: str) -> Any:
    # The reader loads onnxruntime and OpenCV: import it only when asked for, so that the
    # database layer can use the (pure) watchlist types without pulling the OCR models in.
    if name in ("PlateRead", "PlateReader"):
        from sereno.video.plates import reader

        return getattr(reader, name)
    raise AttributeError(name)
