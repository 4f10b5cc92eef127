"""What an image's metadata says about the instrument: maker, model, magnification, data bar.

Calibration profiles (:mod:`particle_gui.core.io.profiles`) are keyed by instrument and
magnification, and the data-bar finder uses the strip height FEI/Thermo record. Only what the
files state is read; nothing is guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import tifffile


@dataclass(frozen=True)
class InstrumentInfo:
    """Instrument facts from an image's metadata (None where the file says nothing).

    Attributes
    ----------
    vendor : str
        "Zeiss", "FEI/Thermo", ...
    model : str or None
        Model or serial as the file states it ("Merlin-61-08", "DualBeam 9922607").
    magnification : float or None
        The instrument's magnification (x).
    field_width_nm : float or None
        Horizontal field width of the image.
    databar_height_px : int or None
        Height of the data bar the instrument appended at the bottom.
    """

    vendor: str
    model: str | None = None
    magnification: float | None = None
    field_width_nm: float | None = None
    databar_height_px: int | None = None

    @property
    def key(self) -> str:
        """The instrument's identity for calibration profiles: vendor and model."""
        return f"{self.vendor} {self.model}" if self.model else self.vendor


def instrument_from_tiff(tif: tifffile.TiffFile) -> InstrumentInfo | None:
    """Read :class:`InstrumentInfo` from Zeiss or FEI/Thermo tags; None for other TIFFs."""
    for reader in (_zeiss, _fei):
        try:
            info = reader(tif)
        except (KeyError, ValueError, TypeError, AttributeError, IndexError):
            info = None
        if info is not None:
            return info
    return None


def _zeiss(tif: tifffile.TiffFile) -> InstrumentInfo | None:
    sem = tif.sem_metadata
    if not sem:
        return None
    model = _entry(sem, "sv_serial_number") or _entry(sem, "dp_sem")
    mag = sem.get("ap_mag")
    magnification = float(mag[1]) * (1000.0 if len(mag) > 2 and str(mag[2]).strip().upper().startswith("K") else 1.0) \
        if mag and isinstance(mag[1], (int, float)) else None
    width = sem.get("ap_width")
    field_nm = None
    if width and len(width) > 2 and isinstance(width[1], (int, float)):
        from particle_gui.core.units import NM_PER_UNIT

        field_nm = float(width[1]) * NM_PER_UNIT.get(str(width[2]).strip().lower(), float("nan"))
    return InstrumentInfo("Zeiss", str(model) if model else None, magnification, field_nm, None)


def _fei(tif: tifffile.TiffFile) -> InstrumentInfo | None:
    fei = tif.fei_metadata
    if not fei:
        return None
    system = fei.get("System", {})
    model = " ".join(str(v) for v in (system.get("Type"), system.get("Dnumber")) if v not in (None, ""))
    hfw = fei.get("EBeam", {}).get("HFW") or fei.get("Scan", {}).get("HorFieldsize")
    field_nm = float(hfw) * 1e9 if isinstance(hfw, (int, float)) and hfw > 0 else None
    canvas = fei.get("Image", {}).get("MagCanvasRealWidth")
    magnification = float(canvas) / float(hfw) if field_nm and isinstance(canvas, (int, float)) and canvas > 0 else None
    height = fei.get("PrivateFei", {}).get("DatabarHeight")
    databar = int(height) if isinstance(height, (int, float)) and height > 0 else None
    return InstrumentInfo("FEI/Thermo", model or None, magnification, field_nm, databar)


def _entry(tags: dict[str, Any], key: str) -> Any:
    value = tags.get(key)
    return value[1] if isinstance(value, tuple) and len(value) > 1 else None
