"""Fixtures: real source databases in a temporary directory (see helpers.Sources)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tests.insights.helpers import Sources


@pytest.fixture
def sources(tmp_path: Path) -> Iterator[Sources]:
    src = Sources(tmp_path)
    yield src
    src.dispose()
