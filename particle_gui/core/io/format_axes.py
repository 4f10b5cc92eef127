"""What the vendor readers share: data axes, their units and the pixel size they give.

They also share the refusal of files that hold no image (spectra, diffraction, stacks of unknown
kind).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from particle_gui.core.io.calibration import SOURCE_METADATA, Calibration
from particle_gui.core.errors import ImageLoadError
from particle_gui.core.io.metadata import plausible_pixel_nm
from particle_gui.core.units import NM_PER_UNIT

#: Relative difference of the two pixel edges above which pixels count as non-square.
NON_SQUARE_TOLERANCE = 1e-3

#: ``check_size(height, width)`` is called before a frame's pixels are read; it raises to refuse.
SizeCheck = Callable[[int, int], None]

_NO_UNIT = ("", "pixel", "pixels", "px", "unknown", "<auto>")
_ENERGY_UNITS = ("ev", "kev", "mev")
_ANGLE_UNITS = ("rad", "mrad", "µrad", "μrad", "urad", "deg")


class Axis(NamedTuple):
    """One data axis in C order: its length, the step between pixels and the step's unit."""

    size: int
    step: float | None
    unit: str


def _clean_unit(unit: Any) -> str:
    if isinstance(unit, bytes):
        unit = unit.decode("utf-8", "replace")
    return str(unit).strip().strip("[]").replace(" ", "").replace("_", "").lower()


def unit_kind(unit: Any) -> str:
    """``"length"``, ``"reciprocal"`` (1/nm...), ``"angle"``, ``"energy"``, ``"none"`` or ``"other"``.

    >>> unit_kind("n_m"), unit_kind("1/nm"), unit_kind("eV"), unit_kind("")
    ('length', 'reciprocal', 'energy', 'none')
    """
    key = _clean_unit(unit)
    if key in _NO_UNIT:
        return "none"
    if key.startswith("1/") or key.endswith(("^-1", "-1")):
        return "reciprocal"
    if key in _ENERGY_UNITS:
        return "energy"
    if key in _ANGLE_UNITS:
        return "angle"
    return "length" if key in NM_PER_UNIT else "other"


def nm_per_unit(unit: Any) -> float | None:
    """Nanometres per ``unit`` for any spelling vendors write (``m``, ``nm``, ``n_m``, ``A``, ``µm``...)."""
    return NM_PER_UNIT.get(_clean_unit(unit)) if unit_kind(unit) == "length" else None


def refuse_if_not_image(path: Path, axes: Sequence[Axis]) -> tuple[int, int, int]:
    """Check that data with these axes (C order) hold real-space 2-D images.

    Returns the indices of the image's row and column axes (the last two longer than 1) and the
    number of frames; raises :class:`ImageLoadError` saying what the file holds otherwise.
    """
    long_axes = [i for i, axis in enumerate(axes) if axis.size > 1]
    kinds = [unit_kind(axis.unit) for axis in axes]
    shape = " x ".join(str(axes[i].size) for i in long_axes)
    if not long_axes:
        raise ImageLoadError(f"{path}: the file holds a single value, not an image.")
    if len(long_axes) == 1:
        axis = axes[long_axes[0]]
        what = "spectrum" if kinds[long_axes[0]] in ("energy", "none", "other") else "profile"
        unit = f" ({axis.unit})" if str(axis.unit).strip() else ""
        raise ImageLoadError(f"{path}: the file holds a 1-D {what} with {axis.size} channels{unit}, not an image.")
    if any(kinds[i] == "energy" for i in long_axes):
        what = "spectrum image" if len(long_axes) > 2 else "2-D spectrum (position x energy)"
        raise ImageLoadError(
            f"{path}: the file holds a {what} of {shape} "
            f"({', '.join(str(axes[i].unit).strip() or 'no unit' for i in long_axes)}), not an image."
        )
    row, column = long_axes[-2:]
    frames = math.prod(axes[i].size for i in long_axes[:-2])
    if kinds[row] in ("reciprocal", "angle") or kinds[column] in ("reciprocal", "angle"):
        units = f"axes in {axes[row].unit}"
        if frames > 1 and all(kinds[i] == "length" for i in long_axes[:-2]):
            what = f"a 4D-STEM data set ({shape}: a diffraction pattern at each scan position)"
        elif frames > 1:
            what = f"a series of {frames} diffraction patterns ({shape}, {units})"
        else:
            what = f"a diffraction pattern ({shape}, {units})"
        raise ImageLoadError(f"{path}: the file holds {what}, not a real-space image.")
    return row, column, frames


def note_frames(notes: list[str], frames: int, what: str = "frames") -> None:
    """Add a note that only the first of ``frames`` frames is analysed, when there is more than one."""
    if frames > 1:
        notes.append(f"The file holds {frames} {what}; only the first is analysed.")


def make_calibration(format_name: str, row: Axis, column: Axis, notes: list[str]) -> Calibration | None:
    """Pixel size in nm from a row axis and a column axis; geometric mean (with a note) when non-square."""
    steps_nm = []
    for axis in (column, row):
        per_unit = nm_per_unit(axis.unit)
        if per_unit is None or axis.step is None or not math.isfinite(axis.step) or axis.step == 0:
            if unit_kind(axis.unit) != "none":  # without a unit the file is simply uncalibrated
                notes.append(
                    f"The {format_name} pixel size is given in {axis.unit!r}, not as a length; "
                    "sizes are in pixels unless you calibrate the image."
                )
            return None
        steps_nm.append(abs(float(axis.step)) * per_unit)
    width_nm, height_nm = steps_nm
    if abs(width_nm - height_nm) > NON_SQUARE_TOLERANCE * max(width_nm, height_nm):
        pixel_nm = math.sqrt(width_nm * height_nm)
        detail = f"{format_name} ({width_nm:.6g} nm x {height_nm:.6g} nm, non-square: geometric mean used)"
        notes.append(
            f"Non-square pixels ({width_nm:.4g} nm wide, {height_nm:.4g} nm high): sizes use their geometric "
            f"mean, {pixel_nm:.4g} nm, which keeps areas right; lengths along one axis are approximate."
        )
    else:
        pixel_nm, detail = width_nm, f"{format_name} pixel calibration"
    if not plausible_pixel_nm(pixel_nm):
        notes.append(
            f"The {format_name} pixel size ({pixel_nm:.4g} nm) is not a plausible microscope calibration "
            "and is ignored; sizes are in pixels unless you calibrate the image."
        )
        return None
    return Calibration(pixel_nm, SOURCE_METADATA, detail)


# ---------------------------------------------------------------- Gatan DigitalMicrograph


