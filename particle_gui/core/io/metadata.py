"""Pixel size from instrument metadata: TIFF tags, and the text files some SEMs save beside images.

The TIFF tags are those of Zeiss, FEI/Thermo and ImageJ, and resolution tags; the text files are
those Hitachi and JEOL SEMs save beside their images.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import tifffile

from particle_gui.core.io.calibration import SOURCE_METADATA, Calibration
from particle_gui.core.errors import CalibrationError
from particle_gui.core.units import NM_PER_UNIT, parse_length_nm

#: Pixel sizes outside this range (nm) are not microscope calibrations (e.g. 72 dpi print tags).
PLAUSIBLE_PIXEL_NM = (1e-4, 1e5)
#: TIFF resolution tags (inch or cm) are read as a calibration only for pixels up to this size (nm):
#: 25,400 px per inch and more, which no printer uses.
MAX_RESOLUTION_TAG_PIXEL_NM = 1000.0
#: A text file beside an image is read as its sidecar only if it is smaller than this.
MAX_SIDECAR_BYTES = 1 << 20

_RESOLUTION_UNIT_NM = {2: 2.54e7, 3: 1e7}  # inch, centimetre
_NUMBER = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
_HITACHI_PIXEL = re.compile(rf"^[ \t]*PixelSize[ \t]*=[ \t]*{_NUMBER}[ \t]*$", re.IGNORECASE | re.MULTILINE)
_HITACHI_SIZE = re.compile(r"^[ \t]*DataSize[ \t]*=[ \t]*(\d+)[ \t]*[xX*][ \t]*(\d+)", re.IGNORECASE | re.MULTILINE)
_JEOL_BAR = re.compile(rf"^[ \t]*\$\$?SM_MICRON_BAR[ \t]+{_NUMBER}[ \t]*$", re.IGNORECASE | re.MULTILINE)
_JEOL_MARKER = re.compile(r"^[ \t]*\$\$?SM_MICRON_MARKER[ \t]+(\S.*?)[ \t]*$", re.IGNORECASE | re.MULTILINE)
_JEOL_SIZE = re.compile(r"^[ \t]*\$CM_FULL_SIZE[ \t]+(\d+)[ \t]+(\d+)", re.IGNORECASE | re.MULTILINE)
_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def calibration_from_tiff(
    tif: tifffile.TiffFile, *, image_path: Path | None = None, notes: list[str] | None = None
) -> Calibration | None:
    """Read the pixel size from a TIFF's instrument metadata, most specific source first.

    Zeiss, FEI/Thermo and ImageJ tags come first, then a Hitachi/JEOL sidecar text file
    beside ``image_path``, then TIFF resolution tags with a physical unit.

    Parameters
    ----------
    tif : tifffile.TiffFile
        An open TIFF file.
    image_path : Path, optional
        Where the TIFF is, to look for its sidecar text file.
    notes : list of str, optional
        Receives the reason a sidecar was found but not used.

    Returns
    -------
    Calibration or None
        None when no tag carries a physical pixel size.
    """
    page = tif.pages.first
    for reader in (_zeiss, _fei, _imagej):
        calibration = _read_tags(reader, tif, page)
        if calibration is not None:
            if "non-square" in calibration.detail and notes is not None:
                notes.append(
                    f"Non-square pixels: sizes use the geometric mean of the two pixel edges, "
                    f"{calibration.pixel_size_nm:.4g} nm ({calibration.detail}); areas are right, "
                    "lengths along one axis are approximate."
                )
            return calibration
    if image_path is not None:
        calibration = calibration_from_sidecar(image_path, image_width=int(page.imagewidth), notes=notes)
        if calibration is not None:
            return calibration
    return _read_tags(_resolution_tags, tif, page)


def _read_tags(reader: Any, tif: tifffile.TiffFile, page: Any) -> Calibration | None:
    """One tag reader's plausible calibration, or None (missing or malformed tags included)."""
    try:
        calibration = reader(tif, page)
    except (KeyError, ValueError, TypeError, AttributeError, ZeroDivisionError):
        return None
    return calibration if calibration is not None and plausible_pixel_nm(calibration.pixel_size_nm) else None


def plausible_pixel_nm(pixel_size_nm: float | None) -> bool:
    """Whether a pixel size (nm) can be a microscope calibration (see :data:`PLAUSIBLE_PIXEL_NM`)."""
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
    r"""ImageJ/Fiji: ``unit=`` in the ImageJ description plus pixels-per-unit X and Y resolution.

    Fiji writes the unit as ``micron``, ``µm``, an escaped ``\u00B5m``, ``nm``, ``A`` or
    ``\u00C5``; ``pixel`` means uncalibrated.
    """
    meta = tif.imagej_metadata
    if not meta or "unit" not in meta:
        return None
    unit = imagej_unit_nm(str(meta["unit"]))
    if unit is None:
        return None
    width_nm = unit / _fraction(page.tags["XResolution"].value)
    y_resolution = page.tags.get("YResolution")
    height_nm = unit / _fraction(y_resolution.value) if y_resolution is not None else width_nm
    detail = f"ImageJ calibration ({meta['unit']})"
    if abs(width_nm - height_nm) > 1e-3 * max(width_nm, height_nm):
        detail = (
            f"ImageJ calibration ({meta['unit']}; non-square pixels {width_nm:.4g} nm x {height_nm:.4g} nm, "
            "geometric mean used)"
        )
        width_nm = math.sqrt(width_nm * height_nm)
    return Calibration(width_nm, SOURCE_METADATA, detail)


def imagej_unit_nm(unit: str) -> float | None:
    r"""Nanometres per ImageJ unit, None for ``pixel`` or an unknown unit.

    >>> imagej_unit_nm("micron"), imagej_unit_nm("\u00B5m"), imagej_unit_nm("A")
    (1000.0, 1000.0, 0.1)
    """
    text = _UNICODE_ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), unit).strip().lower()
    return NM_PER_UNIT.get(text)


def _fraction(value: Any) -> float:
    numerator, denominator = value
    return numerator / denominator


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
    # A print resolution (72, 300, 4800 dpi, ...) says nothing about the specimen: resolution tags
    # count as instrument calibration only for pixels no print device has (at most 1 um).
    if pixel_nm > MAX_RESOLUTION_TAG_PIXEL_NM:
        return None
    unit_name = "inch" if int(unit_tag.value) == 2 else "cm"
    return Calibration(pixel_nm, SOURCE_METADATA, f"TIFF resolution tags ({pixels_per_unit:.6g} px/{unit_name})")



# ---------------------------------------------------------------- sidecar text files (Hitachi, JEOL)


def sidecar_path(image_path: Path) -> Path | None:
    """The text file an SEM saved beside ``image_path`` (same name, ``.txt``), if there is one."""
    for suffix in (".txt", ".TXT", ".Txt"):
        candidate = image_path.with_suffix(suffix)
        if candidate != image_path and candidate.is_file():
            return candidate
    return None


def calibration_from_sidecar(
    image_path: Path, *, image_width: int | None = None, notes: list[str] | None = None
) -> Calibration | None:
    """Pixel size from a Hitachi or JEOL SEM text file saved beside the image.

    Hitachi writes ``PixelSize=1.234`` (nm per pixel); JEOL writes ``$$SM_MICRON_BAR 200`` (the
    scale bar's length in pixels) with ``$$SM_MICRON_MARKER 1um`` (the length it stands for).

    Parameters
    ----------
    image_path : Path
        The image; its sidecar has the same name with ``.txt``.
    image_width : int, optional
        The image's width in pixels. A sidecar describing an image of another width (the
        image was resized after saving) is not used, with a note.
    notes : list of str, optional
        Receives why a sidecar was found but not used.

    Returns
    -------
    Calibration or None
    """
    path = sidecar_path(Path(image_path))
    if path is None:
        return None
    try:
        if path.stat().st_size > MAX_SIDECAR_BYTES:
            return None
        raw = path.read_bytes()
    except OSError:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # Windows instrument PCs write the micro sign as 0xB5
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    calibration, written_width = _hitachi_sidecar(text, path.name)
    if calibration is None:
        calibration, written_width = _jeol_sidecar(text, path.name, notes)
    if calibration is None:
        return None
    if image_width is not None and written_width is not None and written_width != image_width:
        if notes is not None:
            notes.append(
                f"The sidecar {path.name} describes an image {written_width} pixels wide but this image is "
                f"{image_width} pixels wide (resized?); its pixel size is not used."
            )
        return None
    if not plausible_pixel_nm(calibration.pixel_size_nm):
        if notes is not None:
            notes.append(f"The pixel size in {path.name} ({calibration.pixel_size_nm:g} nm) is not plausible; not used.")
        return None
    return calibration


def _hitachi_sidecar(text: str, name: str) -> tuple[Calibration | None, int | None]:
    match = _HITACHI_PIXEL.search(text)
    if match is None:
        return None, None
    size = _HITACHI_SIZE.search(text)
    width = int(size.group(1)) if size else None
    detail = f"Hitachi sidecar {name} (PixelSize={match.group(1)} nm)"
    return Calibration(float(match.group(1)), SOURCE_METADATA, detail), width


def _jeol_sidecar(text: str, name: str, notes: list[str] | None) -> tuple[Calibration | None, int | None]:
    bar, marker = _JEOL_BAR.search(text), _JEOL_MARKER.search(text)
    if bar is None or marker is None:
        return None, None
    bar_px = float(bar.group(1))
    try:
        marker_nm = parse_length_nm(marker.group(1), default_unit="um")
    except CalibrationError:
        if notes is not None:
            notes.append(f"The scale-bar length {marker.group(1)!r} in {name} cannot be read; it is not used.")
        return None, None
    if bar_px <= 0:
        return None, None
    size = _JEOL_SIZE.search(text)
    width = int(size.group(1)) if size else None
    detail = f"JEOL sidecar {name} ({marker.group(1)} over {bar.group(1)} px)"
    return Calibration(marker_nm / bar_px, SOURCE_METADATA, detail), width
