"""Events on tandem.pairing.v1 (the pairing service adds its event types here)."""

from __future__ import annotations

from ..registry import Registry

registry = Registry()
