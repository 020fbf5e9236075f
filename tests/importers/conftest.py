"""Fixtures of the importer tests: the real exports in ../shared/data, read in place."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
EXPORTS = DATA / "whatsapp-exports"


def export_files() -> list[Path]:
    """Every chat export of the shared test data."""
    return sorted(EXPORTS.glob("*/*.txt"))


@pytest.fixture
def exports() -> Path:
    if not EXPORTS.is_dir():  # the data is part of the workspace; its absence is a setup error
        raise RuntimeError(f"test data missing: {EXPORTS}")
    return EXPORTS
