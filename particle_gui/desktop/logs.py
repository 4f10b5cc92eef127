"""Turning exceptions into what the user reads and into the log.

The user reads a message, and the details behind "Details"; the log is a rotating file under the
user's log folder (``PARTICLE_GUI_CONFIG_DIR/logs`` when that variable is set, as in tests).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import traceback
from pathlib import Path

from particle_gui.core.errors import ParticleGuiError
from particle_gui.paths import log_dir

LOG_FILE_NAME = "particle_gui.log"
LOG_MAX_BYTES = 1_000_000
LOG_BACKUPS = 3

log = logging.getLogger("particle_gui")
_handler: logging.handlers.RotatingFileHandler | None = None


def log_file() -> Path:
    """Where the log goes now (it follows ``PARTICLE_GUI_CONFIG_DIR``)."""
    return log_dir() / LOG_FILE_NAME


def configure_logging() -> Path | None:
    """Send the package's records (INFO and up) to :func:`log_file`, rotated at 1 MB, 3 kept.

    Idempotent: call it wherever the app or a window starts and before logging an error. When the
    log folder changed since the last call (a test's own config folder), the file handler moves
    there. Returns the file, or None when it cannot be opened (the app then runs without a log).
    """
    global _handler
    path = log_file()
    if _handler is not None and _handler.baseFilename == os.path.abspath(path):
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
        )
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    if _handler is not None:
        log.removeHandler(_handler)
        _handler.close()
    _handler = handler
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return path


def describe_exception(exc: BaseException, *, context: str, subject: str | None = None) -> tuple[str, str]:
    """``(message, details)`` for an exception that ends a task, which is also logged with its traceback.

    The engine's own errors speak for themselves. Anything else is a bug or the machine running
    out of something: the message says what failed and the exception's own words, never just
    its class name; the details hold the traceback (and where the log is) for a bug report.

    Parameters
    ----------
    exc : BaseException
    context : str
        What failed, e.g. "The analysis failed".
    subject : str, optional
        The file concerned; put in front of the message unless the message names it already.

    """
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    if isinstance(exc, ParticleGuiError):
        message = str(exc)
    elif isinstance(exc, MemoryError):
        message = f"{context}: not enough memory. Close other images or programs, or crop or bin the image."
    else:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        message = (
            f"{context} because of an unexpected problem ({reason}). "
            "Details > Copy details gives the technical report for a bug report."
        )
    if subject and subject not in message:
        message = f"{subject}: {message}"
    path = configure_logging()
    log.error("%s", message, exc_info=(type(exc), exc, exc.__traceback__))
    if path is not None:
        details += f"\nThis report is also in the log: {path}\n"
    return message, details
