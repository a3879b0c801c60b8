"""What an Ecuadorian licence plate can say, and how OCR text is turned into one.

Accepted layouts (after removing spaces, dashes, dots and other separators, uppercased):

==========  ===========  ====================================================
layout      example      used on
==========  ===========  ====================================================
``LLLDDDD`` ``GBC1234``  cars, current series (three letters, four digits)
``LLLDDD``  ``PBX123``   cars, older series still on the road (three digits)
``LLDDDL``  ``AB123C``   motorcycles (two letters, three digits, one letter)
==========  ===========  ====================================================

``L`` is a Latin letter A–Z, ``D`` a digit. Plates are stored and compared without the dash;
``display_plate`` puts it back for people (``GBC-1234``).

OCR confuses letters and digits that look alike. Because every position of a plate is known to
hold either a letter or a digit, a look-alike in the wrong place is turned into its twin:
``O/Q→0, I/L→1, Z→2, S→5, G→6, B→8`` in digit positions and ``0→O, 1→I, 2→Z, 5→S, 6→G, 8→B`` in
letter positions. At most ``MAX_FIXES`` characters are changed, so ordinary words (``PARE``,
``SALIDA``, ``ECUADOR``) are never bent into a plate; text that fits no layout is rejected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LAYOUTS: tuple[tuple[str, str], ...] = (  # (pattern, kind); L = letter, D = digit
    ("LLLDDDD", "car"),
    ("LLLDDD", "car"),
    ("LLDDDL", "motorcycle"),
)
TO_DIGIT = {"O": "0", "Q": "0", "I": "1", "L": "1", "Z": "2", "S": "5", "G": "6", "B": "8"}
TO_LETTER = {"0": "O", "1": "I", "2": "Z", "5": "S", "6": "G", "8": "B"}
MAX_FIXES = 2
MAX_EXTRA = 2  # stray characters OCR adds at the ends (a bolt, the border, a sticker)
_SEPARATORS = re.compile(r"[\s\-\.·_/|:,]+")


@dataclass(frozen=True, slots=True)
class PlateText:
    """A plate read from OCR text: the normalised plate (``GBC1234``), its layout kind
    (``car``/``motorcycle``) and how many characters were changed to fit the layout."""

    plate: str
    kind: str
    fixes: int

    @property
    def display(self) -> str:
        """The plate as printed (``GBC-1234``, ``AB-123C``)."""
        return display_plate(self.plate)


def clean(text: str) -> str:
    """Uppercase, without separators (spaces, dashes, dots…). Other characters are kept so a
    later check can reject them."""
    return _SEPARATORS.sub("", text).upper()


def fit_layout(text: str, layout: str) -> tuple[str, int] | None:
    """``text`` (cleaned, same length as ``layout``) fitted to the layout: the fixed plate and
    the number of look-alikes changed, or ``None`` if some position cannot be fixed."""
    if len(text) != len(layout):
        return None
    out: list[str] = []
    fixes = 0
    for char, slot in zip(text, layout, strict=True):
        if slot == "L":
            if "A" <= char <= "Z":
                out.append(char)
            elif char in TO_LETTER:
                out.append(TO_LETTER[char])
                fixes += 1
            else:
                return None
        elif char.isascii() and char.isdigit():
            out.append(char)
        elif char in TO_DIGIT:
            out.append(TO_DIGIT[char])
            fixes += 1
        else:
            return None
    return "".join(out), fixes


def parse_plate(text: str, *, max_fixes: int = MAX_FIXES,
                max_extra: int = MAX_EXTRA) -> PlateText | None:
    """The plate that OCR ``text`` most plausibly shows, or ``None`` if it cannot be a plate.

    Tries every layout on the whole cleaned text first; then, if that fails, on substrings that
    drop at most ``max_extra`` characters from the ends (OCR often adds a stray ``I`` for the
    plate's border). Among fits, the one using the most of the text wins, then the one with the
    fewest changed characters, then the longer layout.
    """
    cleaned = clean(text)
    best: tuple[int, int, int, PlateText] | None = None
    for layout, kind in LAYOUTS:
        for drop in range(0, max_extra + 1):
            for start in range(drop + 1):
                piece = cleaned[start:len(cleaned) - (drop - start)]
                fitted = fit_layout(piece, layout)
                if fitted is None or fitted[1] > max_fixes:
                    continue
                rank = (drop, fitted[1], -len(layout))
                if best is None or rank < best[:3]:
                    best = (*rank, PlateText(fitted[0], kind, fitted[1]))
    return best[3] if best else None


def normalise_plate(text: str) -> str | None:
    """The normalised plate (``GBC1234``) in ``text``, or ``None`` when it is not a plate."""
    parsed = parse_plate(text)
    return parsed.plate if parsed else None


def display_plate(plate: str) -> str:
    """A normalised plate with its dash (``GBC1234`` → ``GBC-1234``, ``AB123C`` → ``AB-123C``)."""
    split = 3 if len(plate) >= 3 and plate[2].isalpha() else 2
    return f"{plate[:split]}-{plate[split:]}"
