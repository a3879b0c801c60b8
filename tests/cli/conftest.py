"""The ``sereno`` command line, run in-process (Typer's runner) against a fresh embedded node."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from sereno.entrypoints.cli import app

runner = CliRunner()


@pytest.fixture
def node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A demo node seeded in ``tmp_path`` (the working folder), cheap Argon2, no ``--as``."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SERENO_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SERENO_AUTH__ARGON2_TIME_COST", "1")
    monkeypatch.setenv("SERENO_AUTH__ARGON2_MEMORY_KIB", "1024")
    monkeypatch.delenv("SERENO_AS", raising=False)
    result = runner.invoke(app, ["demo", "seed"])
    assert result.exit_code == 0, result.output
    return tmp_path
