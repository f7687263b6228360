"""reduction ops (declared with @op; see ops/registry.py)."""
from __future__ import annotations

from .registry import op  # noqa: F401
