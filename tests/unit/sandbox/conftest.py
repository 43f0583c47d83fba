"""An in-process sandbox per test, on a frozen simulated clock, and an httpx client."""

from collections.abc import Iterator

import httpx
import pytest

from localdev.sandbox import Sandbox
from tests.unit.sandbox.support import START


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=7, channels=150, start=START, rate=0) as sb:
        yield sb


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as c:
        yield c
