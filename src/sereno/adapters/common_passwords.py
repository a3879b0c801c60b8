"""The list of common passwords the password policy refuses, shipped with the package (no
download at run time; see ``data/common-passwords.txt`` for its source)."""

from __future__ import annotations

from functools import cache
from importlib.resources import files


@cache
def load_common_passwords() -> frozenset[str]:
    """Every listed password, lower case."""
    text = files("sereno.adapters").joinpath("data/common-passwords.txt").read_text("utf-8")
    return frozenset(line.strip().casefold() for line in text.splitlines()
                     if line.strip() and not line.startswith("#"))
