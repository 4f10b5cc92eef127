"""Turning exceptions into what the user reads: a message and the details behind "Details"."""

from __future__ import annotations

import traceback

from particle_gui.core.errors import ParticleGuiError


def describe_exception(exc: BaseException, *, context: str) -> tuple[str, str]:
    """``(message, details)``: the engine's own errors speak for themselves; anything else is
    "<context>: <repr>" with the traceback as details."""
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    message = str(exc) if isinstance(exc, ParticleGuiError) else f"{context}: {exc!r}"
    return message, details
