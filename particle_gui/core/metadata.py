"""Pixel size from instrument metadata in TIFF files (Zeiss, FEI/Thermo, ImageJ, resolution tags)."""

from __future__ import annotations

import math
from typing import Any

import tifffile

from particle_gui.core.calibration import SOURCE_METADATA, Calibration
from particle_gui.core.units import NM_PER_UNIT

#: Pixel sizes outside this range (nm) are not microscope calibrations (e.g. 72 dpi print tags).
PLAUSIBLE_PIXEL_NM = (1e-4, 1e5)

_RESOLUTION_UNIT_NM = {2: 2.54e7, 3: 1e7}  # inch, centimetre


def calibration_from_tiff(tif: tifffile.TiffFile) -> Calibration | None:
    """Read the pixel size from a TIFF's instrument metadata, most specific source first.

    Parameters
    ----------
    tif : tifffile.TiffFile
        An open TIFF file.

    Returns
    -------
    Calibration or None
        None when no tag carries a physical pixel size.
    """
    page = tif.pages.first
    for reader in (_zeiss, _fei, _imagej, _resolution_tags):
        try:
            calibration = reader(tif, page)
        except (KeyError, ValueError, TypeError, AttributeError, ZeroDivisionError):
            calibration = None
        if calibration is not None and _plausible(calibration.pixel_size_nm):
            return calibration
    return None


def _plausible(pixel_size_nm: float | None) -> bool:
    return (
        pixel_size_nm is not None
        and math.isfinite(pixel_size_nm)
        and PLAUSIBLE_PIXEL_NM[0] <= pixel_size_nm <= PLAUSIBLE_PIXEL_NM[1]
    )


def _zeiss(tif: tifffile.TiffFile, page: Any) -> Calibration | None:
    """Zeiss SmartSEM ``CZ_SEM`` tag.

    The labelled "Image Pixel Size" is rounded to four digits; the tag's unlabelled leading
    values hold the exact pixel size in metres, which we prefer when it agrees with the label.
    """
    sem = tif.sem_metadata
    if not sem:
        return None
    labelled_nm = None
    for key in ("ap_image_pixel_size", "ap_pixel_size"):
        entry = sem.get(key)
        if entry and len(entry) >= 3 and isinstance(entry[1], (int, float)):
            labelled_nm = float(entry[1]) * NM_PER_UNIT[entry[2].strip().lower()]
            break
    exact_nm = None
    for value in sem.get("", ()):
        if isinstance(value, float) and 1e-13 < value < 1e-3:
            candidate = value * 1e9
            if labelled_nm is None or abs(candidate - labelled_nm) <= 0.01 * labelled_nm:
                exact_nm = candidate
                break
    if exact_nm is not None:
        return Calibration(exact_nm, SOURCE_METADATA, "Zeiss CZ_SEM tag (exact value in metres)")
    if labelled_nm is not None:
        return Calibration(labelled_nm, SOURCE_METADATA, "Zeiss CZ_SEM tag (Image Pixel Size)")
    return None


def _fei(tif: tifffile.TiffFile, page: Any) -> Calibration | None:
    """FEI/Thermo Fisher ``[Scan] PixelWidth`` (metres) in the FEI_SFEG/FEI_HELIOS tags."""
    fei = tif.fei_metadata
    if not fei:
        return None
    for section in ("Scan", "EScan", "Image"):
        width = fei.get(section, {}).get("PixelWidth")
        if isinstance(width, (int, float)) and width > 0:
            height = fei.get(section, {}).get("PixelHeight", width)
            detail = f"FEI/Thermo [{section}] PixelWidth"
            if isinstance(height, (int, float)) and height > 0 and abs(height - width) > 0.01 * width:
                detail += f" (non-square pixels: height {height * 1e9:.4g} nm, geometric mean used)"
                width = math.sqrt(width * height)
            return Calibration(float(width) * 1e9, SOURCE_METADATA, detail)
    return None


def _imagej(tif: tifffile.TiffFile, page: Any) -> Calibration | None:
    """ImageJ/Fiji: ``unit=`` in the ImageJ description plus pixels-per-unit resolution."""
    meta = tif.imagej_metadata
    if not meta or "unit" not in meta:
        return None
    unit = str(meta["unit"]).replace("\\u00B5", "µ").strip().lower()
    if unit in ("micron", "microns"):
        unit = "um"
    if unit not in NM_PER_UNIT:
        return None
    numerator, denominator = page.tags["XResolution"].value
    pixels_per_unit = numerator / denominator
    return Calibration(NM_PER_UNIT[unit] / pixels_per_unit, SOURCE_METADATA, f"ImageJ calibration ({meta['unit']})")


def _resolution_tags(tif: tifffile.TiffFile, page: Any) -> Calibration | None:
    """TIFF XResolution with a real unit (inch or cm); 'no unit' is ignored."""
    unit_tag = page.tags.get("ResolutionUnit")
    resolution = page.tags.get("XResolution")
    if unit_tag is None or resolution is None:
        return None
    unit_nm = _RESOLUTION_UNIT_NM.get(int(unit_tag.value))
    if unit_nm is None:
        return None
    numerator, denominator = resolution.value
    pixels_per_unit = numerator / denominator
    pixel_nm = unit_nm / pixels_per_unit
    # A print resolution (72 or 300 dpi, ...) says nothing about the specimen.
    if pixel_nm > 10_000:
        return None
    unit_name = "inch" if int(unit_tag.value) == 2 else "cm"
    return Calibration(pixel_nm, SOURCE_METADATA, f"TIFF resolution tags ({pixels_per_unit:.6g} px/{unit_name})")

