"""Plates an agency is looking for, and matching a plate read against them.

Pure Python: no I/O, no clock of its own (``match`` takes the time of the read). Matching is
exact on the normalised plate, or tolerant — at most ``tolerance`` edits (Levenshtein: one
character changed, missing or extra) — for entries long enough that one wrong character still
leaves the plate distinctive. OCR's usual mistakes are one character; a tolerant hit is a lead
for an operator to check, never proof.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sereno.video.plates.text import clean, normalise_plate

DEFAULT_TOLERANCE = 1
MIN_TOLERANT_LENGTH = 6  # shorter plates: one edit away matches too many others


class WatchlistError(ValueError):
    """A watchlist entry that cannot be used (its plate is not a plate, a bad tolerance)."""


@dataclass(frozen=True, slots=True)
class WatchlistEntry:
    """One wanted plate.

    ``plate`` is normalised on creation (``"gbc 1234"`` → ``GBC1234``); a value that is not a
    valid plate is kept uppercased without separators only if ``strict`` is false (partial
    plates from a witness, foreign plates). ``expires`` is compared with the read's time (both
    aware, or both naive). ``tolerance`` overrides the watchlist's default for this entry
    (0 = exact only). ``published``: the agency lets partners' cameras match it (under an
    agreement that shares watchlists). ``starts``: the entry applies from then on (a copy
    matched under an agreement that starts later).
    """

    plate: str
    reason: str
    agency_id: str
    expires: datetime | None = None
    tolerance: int | None = None
    entry_id: str | None = None
    published: bool = False
    starts: datetime | None = None

    @classmethod
    def create(cls, plate: str, reason: str, agency_id: str, *,
               expires: datetime | None = None, tolerance: int | None = None,
               entry_id: str | None = None, strict: bool = True,
               published: bool = False) -> WatchlistEntry:
        """An entry with its plate normalised; raises ``WatchlistError`` for a plate that
        cannot be one (unless ``strict`` is false) or a negative tolerance."""
        normalised = normalise_plate(plate)
        if normalised is None:
            if strict:
                raise WatchlistError(f"{plate!r} is not an Ecuadorian plate")
            normalised = clean(plate)
            if not normalised.isalnum():
                raise WatchlistError(f"{plate!r} holds characters no plate has")
        if tolerance is not None and tolerance < 0:
            raise WatchlistError("tolerance must be 0 or more")
        return cls(normalised, reason, agency_id, expires, tolerance, entry_id,
                   published)

    def active_at(self, at: datetime | None) -> bool:
        """Whether the entry applies at ``at`` (no time given: every entry applies)."""
        if at is None:
            return True
        return ((self.starts is None or self.starts <= at)
                and (self.expires is None or at < self.expires))


@dataclass(frozen=True, slots=True)
class WatchlistHit:
    """A plate read that matches a wanted plate: ``distance`` 0 is an exact match."""

    plate: str
    watched_plate: str
    distance: int
    reason: str
    agency_id: str
    entry_id: str | None = None

    @property
    def exact(self) -> bool:
        """The read is exactly the wanted plate."""
        return self.distance == 0


class Watchlist:
    """Wanted plates, looked up exactly by hash and tolerantly by edit distance.

    ``tolerance`` is the default maximum edit distance (0 turns tolerant matching off);
    ``min_tolerant_length`` the shortest plate tolerant matching applies to.

    Tolerant lookups use a deletion index (SymSpell's idea): two plates within ``k`` edits share
    a string made by deleting at most ``k`` characters from each, so only entries sharing one
    with the read are compared — a large national list costs a few dictionary lookups per read.
    """

    def __init__(self, entries: Iterable[WatchlistEntry] = (), *,
                 tolerance: int = DEFAULT_TOLERANCE,
                 min_tolerant_length: int = MIN_TOLERANT_LENGTH) -> None:
        if tolerance < 0:
            raise WatchlistError("tolerance must be 0 or more")
        self.tolerance = tolerance
        self.min_tolerant_length = min_tolerant_length
        self._entries: list[WatchlistEntry] = []
        self._by_plate: dict[str, list[WatchlistEntry]] = {}
        self._by_deletion: dict[str, list[WatchlistEntry]] = {}
        self._max_tolerance = 0
        for entry in entries:
            self.add(entry)

    def add(self, entry: WatchlistEntry) -> None:
        """Add an entry (several agencies may want the same plate: each gets its own hit)."""
        self._entries.append(entry)
        self._by_plate.setdefault(entry.plate, []).append(entry)
        limit = self.tolerance_for(entry)
        if limit > 0:
            self._max_tolerance = max(self._max_tolerance, limit)
            for variant in deletions(entry.plate, limit):
                self._by_deletion.setdefault(variant, []).append(entry)

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[WatchlistEntry]:
        return iter(self._entries)

    def tolerance_for(self, entry: WatchlistEntry) -> int:
        """The edit distance allowed for ``entry`` (0 for plates too short to be tolerant)."""
        if len(entry.plate) < self.min_tolerant_length:
            return 0
        return self.tolerance if entry.tolerance is None else entry.tolerance

    def match(self, plate_read: str, *, at: datetime | None = None) -> list[WatchlistHit]:
        """Hits for a plate read (raw OCR text or normalised), closest first.

        Expired entries (``expires`` not after ``at``) never match. A read that does not
        normalise to a plate is compared uppercased without separators.
        """
        plate = normalise_plate(plate_read) or clean(plate_read)
        if not plate:
            return []
        hits: list[WatchlistHit] = []
        for entry in self._by_plate.get(plate, []):
            if entry.active_at(at):
                hits.append(_hit(plate, entry, 0))
        if len(plate) >= self.min_tolerant_length and self._max_tolerance > 0:
            candidates: dict[int, WatchlistEntry] = {}
            for variant in deletions(plate, self._max_tolerance):
                for entry in self._by_deletion.get(variant, []):
                    candidates[id(entry)] = entry
            for entry in candidates.values():
                if entry.plate == plate or not entry.active_at(at):
                    continue
                limit = self.tolerance_for(entry)
                distance = edit_distance(plate, entry.plate, limit)
                if distance <= limit:
                    hits.append(_hit(plate, entry, distance))
        hits.sort(key=lambda h: (h.distance, h.watched_plate, h.agency_id))
        return hits


def _hit(plate: str, entry: WatchlistEntry, distance: int) -> WatchlistHit:
    return WatchlistHit(plate, entry.plate, distance, entry.reason, entry.agency_id,
                        entry.entry_id)


def deletions(text: str, depth: int) -> set[str]:
    """``text`` and every string made by deleting up to ``depth`` of its characters."""
    found = {text}
    frontier = {text}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1:] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


def edit_distance(a: str, b: str, limit: int | None = None) -> int:
    """Levenshtein distance between ``a`` and ``b``; with ``limit``, any distance above it is
    reported as ``limit + 1`` (and found sooner: rows stop once every cell exceeds it)."""
    if limit is not None and abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (char_a != char_b)))
        if limit is not None and min(current) > limit:
            return limit + 1
        previous = current
    distance = previous[-1]
    return distance if limit is None or distance <= limit else limit + 1
