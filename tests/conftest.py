"""Fixtures for every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from agentrun._secrets import forget_all


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    """Each test starts with no remembered secret: environment values one test read (and
    agentrun then hides in everything it prints) must not hide text in the next test."""
    forget_all()
    yield
    forget_all()
