"""Lengths with units: parsing user input such as ``"200nm"`` and converting to nanometres."""

from __future__ import annotations

import math
import re

from particle_gui.core.errors import CalibrationError

#: Nanometres per unit, for every spelling instruments and users write.
NM_PER_UNIT: dict[str, float] = {
    "pm": 1e-3,
    "a": 0.1,
    "å": 0.1,
    "angstrom": 0.1,
    "nm": 1.0,
    "n_m": 1.0,
    "um": 1e3,
    "µm": 1e3,
    "μm": 1e3,
    "micron": 1e3,
    "microns": 1e3,
    "mm": 1e6,
    "cm": 1e7,
    "m": 1e9,
    "in": 2.54e7,
    "inch": 2.54e7,
}

_LENGTH = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([^\s0-9].*?)?\s*$")


def unit_to_nm(unit: str) -> float:
    """Return how many nanometres one ``unit`` is.

    >>> unit_to_nm("µm")
    1000.0
    """
    key = unit.strip().lower()
    if key not in NM_PER_UNIT:
        known = ", ".join(sorted({"pm", "A", "nm", "um", "mm", "m"}))
        raise CalibrationError(f"Unknown length unit {unit!r}; use one of {known}.")
    return NM_PER_UNIT[key]


def parse_length_nm(text: str, *, default_unit: str | None = None) -> float:
    """Parse a length such as ``"200nm"``, ``"2.5 µm"`` or ``"3e-9 m"`` into nanometres.

    Parameters
    ----------
    text : str
        A positive number followed by a unit.
    default_unit : str, optional
        Unit assumed when ``text`` is a bare number; without it a bare number is an error.

    Returns
    -------
    float
        The length in nanometres.

    Examples
    --------
    >>> parse_length_nm("200nm")
    200.0
    >>> parse_length_nm("0.5 um")
    500.0
    """
    match = _LENGTH.match(str(text))
    if match is None:
        raise CalibrationError(f"Cannot read a length from {text!r}; write it like '200nm' or '2.5 um'.")
    value = float(match.group(1))
    unit = match.group(2) or default_unit
    if unit is None:
        raise CalibrationError(f"The length {text!r} has no unit; write it like '200nm' or '2.5 um'.")
    length_nm = value * unit_to_nm(unit)
    if not math.isfinite(length_nm) or length_nm <= 0:
        raise CalibrationError(f"The length {text!r} must be positive.")
    return length_nm


def format_length_nm(length_nm: float) -> str:
    """Format a length in the unit a microscopist would read it in.

    >>> format_length_nm(2500.0)
    '2.5 µm'
    """
    if length_nm >= 1e6:
        return f"{length_nm / 1e6:.4g} mm"
    if length_nm >= 1e3:
        return f"{length_nm / 1e3:.4g} µm"
    if length_nm >= 1.0:
        return f"{length_nm:.4g} nm"
    return f"{length_nm * 1e3:.4g} pm"
