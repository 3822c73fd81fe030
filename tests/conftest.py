"""Shared fixtures: the survey options, the seed profile and the read-only ../shared folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from innograph.records import SurveyOptions
from innograph.vocab import survey_options

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SEED = ROOT / "data" / "profiles" / "liverpool-city-region.txt"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def options() -> SurveyOptions:
    return survey_options()


@pytest.fixture(scope="session")
def seed_bytes() -> bytes:
    return SEED.read_bytes()


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is absent")
    return SHARED
