"""Fixtures of the deployment tests; the helpers are in deploy_support.py."""

from __future__ import annotations

from typing import Any

import pytest
from deploy_support import OVERLAYS, load_compose, rendered_overlay


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def rendered(overlay: str) -> list[dict[str, Any]]:
    return rendered_overlay(overlay)


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    return load_compose()
