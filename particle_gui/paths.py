"""Where the app keeps its files for the user (settings, calibration profiles, logs); no Qt.

The folder comes from platformdirs; ``PARTICLE_GUI_CONFIG_DIR`` redirects it (tests use this).
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_config_dir, user_log_dir

PROFILES_NAME = "calibration_profiles.json"


def config_dir() -> Path:
    """The user's config folder of the app, or ``PARTICLE_GUI_CONFIG_DIR`` when it is set."""
    override = os.environ.get("PARTICLE_GUI_CONFIG_DIR")
    return Path(override) if override else Path(user_config_dir("particle_gui", appauthor=False))


def log_dir() -> Path:
    """The user's log folder of the app, or ``logs`` in ``PARTICLE_GUI_CONFIG_DIR`` when it is set."""
    override = os.environ.get("PARTICLE_GUI_CONFIG_DIR")
    return Path(override) / "logs" if override else Path(user_log_dir("particle_gui", appauthor=False))


def profiles_path() -> Path:
    """The calibration profiles the window and the command line share."""
    return config_dir() / PROFILES_NAME
