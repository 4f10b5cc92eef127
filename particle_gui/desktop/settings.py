"""User settings (window layout, last parameters, recent files) in a versioned JSON file.

The folder is :func:`particle_gui.paths.config_dir` (``PARTICLE_GUI_CONFIG_DIR`` redirects it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from particle_gui.core.errors import ExportError
from particle_gui.core.output.export import atomic_write_text, describe_os_error
from particle_gui.paths import config_dir

SETTINGS_VERSION = 1
MAX_RECENT = 10


@dataclass
class Settings:
    """What the app remembers between sessions."""

    recent_files: list[str] = field(default_factory=list)
    last_params: dict[str, Any] | None = None
    window_geometry: str = ""
    window_state: str = ""
    last_directory: str = ""

    def add_recent(self, path: str | Path) -> None:
        text = str(Path(path))
        self.recent_files = [text] + [p for p in self.recent_files if p != text]
        del self.recent_files[MAX_RECENT:]

    @classmethod
    def load(cls) -> Settings:
        path = config_dir() / "settings.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(data, dict) or data.get("version") != SETTINGS_VERSION:
            return cls()
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        try:
            return cls(**known)
        except TypeError:
            return cls()

    def save(self) -> None:
        """Write the settings atomically (a crash mid-write keeps the previous file).

        Raises
        ------
        ExportError
            The settings folder cannot be created or the file cannot be written.
        """
        folder = config_dir()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ExportError(f"Cannot create the settings folder {folder}: {describe_os_error(exc)}.") from exc
        payload = {"version": SETTINGS_VERSION, **self.__dict__}
        atomic_write_text(folder / "settings.json", json.dumps(payload, indent=1))
