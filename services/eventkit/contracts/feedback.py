"""Events on tandem.feedback.v1 (the feedback service adds its event types here)."""

from __future__ import annotations

from ..registry import Registry

registry = Registry()
