"""Adapted profiles: the settings learnt from a user's corrections, with where they came from and what they gained.

A profile is one JSON file that ``analyze --profile``, ``report --profile`` and the window apply
to further images. It records the analysis parameters, the method, the corrected images it was
learnt from (name and SHA-256), the base model for the network, the app's version and date, and
the agreement with the corrections before and after (on the corrected images themselves, and
held out one at a time when there were several).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import particle_gui
from particle_gui.core.errors import ParamsError, ParticleGuiError
from particle_gui.core.output.export import atomic_write_text
from particle_gui.core.params import PipelineParams

PROFILE_KIND = "particle_gui adapted profile"
PROFILE_FORMAT_VERSION = 1


class ProfileError(ParticleGuiError):
    """An adapted profile cannot be read or does not fit this version."""


@dataclass(frozen=True)
class AdaptedProfile:
    """Parameters learnt from corrections, with provenance and figures (see the module text)."""

    params: PipelineParams
    images: tuple[dict, ...]
    created: str
    figures: dict = field(default_factory=dict)
    changed: tuple[str, ...] = ()
    search: dict = field(default_factory=dict)
    base_model: dict | None = None
    app_version: str = particle_gui.__version__

    @property
    def method(self) -> str:
        return self.params.method

    def to_dict(self) -> dict:
        return {"kind": PROFILE_KIND, "format_version": PROFILE_FORMAT_VERSION, "method": self.method,
                "app_version": self.app_version, "created": self.created, "base_model": self.base_model,
                "images": list(self.images), "changed": list(self.changed), "search": self.search,
                "figures": self.figures, "params": self.params.to_dict()}

    def provenance(self, path: str | Path) -> dict:
        """What ``run.json`` records of the profile a run applied."""
        return {"adapted_profile": {"path": str(Path(path).resolve()), "method": self.method, "created": self.created,
                                    "images": list(self.images), "base_model": self.base_model,
                                    "changed": list(self.changed), "figures": self.figures}}

    def summary_lines(self) -> list[str]:
        """What the profile changes and gains, in words (for the window, the CLI and the report)."""
        lines = [f"Adapted profile ({self.method}) from {len(self.images)} corrected image(s), {self.created[:10]}."]
        fit = self.figures.get("fit")
        if fit:
            lines.append(f"On the corrected images: F1 {fit['before']['f1']:.2f} -> {fit['after']['f1']:.2f}, "
                         f"D50 error {_pct(fit['before']['d50_error'])} -> {_pct(fit['after']['d50_error'])}.")
        held = self.figures.get("held_out")
        if held:
            lines.append(f"Held out one at a time: F1 {held['before']['f1']:.2f} -> {held['after']['f1']:.2f}, "
                         f"D50 error {_pct(held['before']['d50_error'])} -> {_pct(held['after']['d50_error'])}.")
        elif len(self.images) < 2:
            lines.append("Correct a second image to see the gain on an image the adaptation did not learn from.")
        lines.extend(f"  {change}" for change in self.changed or ("no parameter changed: the settings already agreed best",))
        return lines

    def write(self, path: str | Path) -> None:
        """Write the profile (atomically)."""
        atomic_write_text(path, json.dumps(self.to_dict(), indent=2))


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.1%}"


def load_profile(path: str | Path) -> AdaptedProfile:
    """Read a profile written by :meth:`AdaptedProfile.write`; :class:`ProfileError` with the reason otherwise."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ProfileError(f"{path}: no such profile file.") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProfileError(f"{path}: not a readable profile ({exc}).") from exc
    if not isinstance(data, dict) or data.get("kind") != PROFILE_KIND:
        raise ProfileError(f"{path}: not an adapted profile (made by 'particle-gui adapt' or the window's "
                           "'Adapt to my corrections'). Analysis parameters go with --params.")
    if data.get("format_version", 0) > PROFILE_FORMAT_VERSION:
        raise ProfileError(f"{path}: this profile was written by a newer particle_gui; please update.")
    try:
        params = PipelineParams.from_dict(data["params"])
        return AdaptedProfile(params=params, images=tuple(data.get("images", ())), created=str(data.get("created", "")),
                              figures=dict(data.get("figures", {})), changed=tuple(data.get("changed", ())),
                              search=dict(data.get("search", {})), base_model=data.get("base_model"),
                              app_version=str(data.get("app_version", "?")))
    except (KeyError, TypeError, ValueError, ParamsError) as exc:
        raise ProfileError(f"{path}: the profile is damaged ({exc}).") from exc
