"""Loading images from disk: TIFF (with instrument metadata), PNG, JPEG, BMP and microscope files.

The microscope files are Gatan DM3/DM4, FEI TIA SER, Velox/Berkeley EMD and MRC (read in
:mod:`formats`).

The original array is kept for display; analysis works on a normalised float32 grey copy.
"""

from __future__ import annotations

import hashlib
import re
import warnings as _warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image, UnidentifiedImageError

from particle_gui.core.io import formats
from particle_gui.core.io.calibration import Calibration
from particle_gui.core.errors import ImageLoadError, ImageTooLargeError
from particle_gui.core.io.instrument import InstrumentInfo, instrument_from_tiff
from particle_gui.core.io.metadata import calibration_from_sidecar, calibration_from_tiff

#: Largest image analysed in memory (pixels); larger ones are refused before their data are read.
#: A 10000 x 10000 8-bit image peaks at 3.4 GB through the pipeline and its outputs (4.0 GB with
#: shape classification; ``python -m benchmarks.bench_memory``); memory grows with the pixel count.
MAX_PIXELS = 120_000_000

#: What to do with an image above :data:`MAX_PIXELS`.
_LARGER = ("'particle-gui analyze' analyses TIFF montages of any size in tiles (save other formats as TIFF); "
           "or crop or bin it.")

TIFF_SUFFIXES = (".tif", ".tiff")
PILLOW_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
#: Files opened as images (folder scans, open dialogs). TIA's .emi companions are not among them.
IMAGE_SUFFIXES = TIFF_SUFFIXES + PILLOW_SUFFIXES + formats.VENDOR_SUFFIXES

CONSTANT_NOTE = "The image is constant: every pixel has the same value."

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


@dataclass(frozen=True, eq=False)
class LoadedImage:
    """An image as loaded: the original for display and a normalised grey copy for analysis.

    Attributes
    ----------
    path : Path
    original : ndarray
        The data as stored, (H, W) or (H, W, 3|4), any dtype.
    grey : ndarray of float32, shape (H, W)
        Luminance scaled to [0, 1]: 8-bit data by /255, other data by its finite min and max.
    intensity_offset, intensity_scale : float
        ``grey * intensity_scale + intensity_offset`` gives intensities in the original units.
    metadata_calibration : Calibration or None
        Pixel size read from instrument metadata.
    warnings : tuple of str
        Things the user should know (extra pages ignored, NaNs replaced, alpha ignored...).
    sha256 : str
        Hash of the file's bytes, recorded in run provenance.
    instrument : InstrumentInfo or None
        Maker, model, magnification and data-bar height, where the metadata state them.
    network_intensity_range : (float, float) or None
        Grey values the network maps to 0 and 1 when they are fixed from outside this image (a tile
        of a montage); None: from this image's own percentiles.
    """

    path: Path
    original: np.ndarray
    grey: np.ndarray
    intensity_offset: float
    intensity_scale: float
    metadata_calibration: Calibration | None
    warnings: tuple[str, ...] = field(default=())
    sha256: str = ""
    instrument: InstrumentInfo | None = None
    network_intensity_range: tuple[float, float] | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.grey.shape  # type: ignore[return-value]


def file_sha256(path: Path) -> str:
    """SHA-256 of the file's bytes, as hexadecimal digits."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_image(path: str | Path, *, max_pixels: int = MAX_PIXELS) -> LoadedImage:
    """Load an image file for analysis.

    Parameters
    ----------
    path : str or Path
        A TIFF, PNG, JPEG or BMP file, or a DM3/DM4, SER, EMD or MRC file (by suffix).
    max_pixels : int, optional
        Images with more pixels are refused before their data are read.

    Returns
    -------
    LoadedImage

    Raises
    ------
    ImageLoadError
        Missing, empty, truncated or non-image file, or no 2-D image inside.
    ImageTooLargeError
        More than ``max_pixels`` pixels.
    """
    path = Path(path)
    if not path.exists():
        raise ImageLoadError(f"{path}: file not found.")
    if not path.is_file():
        raise ImageLoadError(f"{path}: not a file.")
    if path.stat().st_size == 0:
        raise ImageLoadError(f"{path}: the file is empty (0 bytes).")
    notes: list[str] = []
    calibration = None
    instrument = None
    suffix = path.suffix.lower()
    if suffix in formats.COMPANION_SUFFIXES:
        raise ImageLoadError(formats.describe_companion(path))
    with path.open("rb") as handle:
        magic = handle.read(4)
    try:
        if suffix in formats.VENDOR_SUFFIXES:
            original, calibration = formats.read_vendor_image(
                path, notes, check_size=lambda height, width: _check_size(path, height, width, max_pixels)
            )
        elif magic[:2] in (b"II", b"MM"):
            original, calibration, instrument = _read_tiff(path, max_pixels, notes)
        else:
            original = _read_with_pillow(path, max_pixels, notes)
            calibration = calibration_from_sidecar(path, image_width=original.shape[1], notes=notes)
    except ImageLoadError:
        raise
    except MemoryError as exc:
        raise ImageTooLargeError(f"{path}: not enough memory to read this image.") from exc
    except Exception as exc:  # decoders raise many types for truncated or corrupt data
        raise ImageLoadError(
            f"{path}: cannot read the image: the file is incomplete or damaged "
            f"(truncated, still being copied, or corrupt): {_reason(exc)}."
        ) from exc
    try:
        grey, offset, scale = to_normalised_grey(original, notes)
    except ImageLoadError as exc:
        raise ImageLoadError(f"{path}: {exc}") from exc
    return LoadedImage(
        path=path,
        original=original,
        grey=grey,
        intensity_offset=offset,
        intensity_scale=scale,
        metadata_calibration=calibration,
        warnings=tuple(notes),
        sha256=file_sha256(path),
        instrument=instrument,
    )


def _reason(exc: BaseException) -> str:
    """A decoder's complaint in words: its message, or its class name only when it has none."""
    text = " ".join(str(exc).split()).rstrip(".")
    return text or type(exc).__name__


def _check_size(path: Path, height: int, width: int, max_pixels: int) -> None:
    if height < 2 or width < 2:
        raise ImageLoadError(f"{path}: the image is {width} x {height} pixels, too small to analyse.")
    if height * width > max_pixels:
        raise ImageTooLargeError(
            f"{path}: the image is {width} x {height} pixels ({height * width / 1e6:.0f} Mpx); "
            f"the largest image analysed in memory is {max_pixels / 1e6:.0f} Mpx. {_LARGER}"
        )


def _read_tiff(path: Path, max_pixels: int, notes: list[str]) -> tuple[np.ndarray, Calibration | None, InstrumentInfo | None]:
    with tifffile.TiffFile(path) as tif:
        if len(tif.pages) == 0:
            raise ImageLoadError(f"{path}: the TIFF holds no image.")
        page = tif.pages.first
        shape = page.shape
        planar = page.planarconfig == tifffile.PLANARCONFIG.SEPARATE and page.ndim == 3
        if planar:  # stored as (samples, H, W)
            shape = (*shape[1:], shape[0])
        if page.ndim < 2 or (page.ndim == 3 and shape[-1] not in (3, 4)) or page.ndim > 3:
            raise ImageLoadError(f"{path}: the first TIFF page has shape {shape}, not a 2-D image.")
        _check_size(path, shape[0], shape[1], max_pixels)
        if len(tif.pages) > 1:
            notes.append(f"The TIFF has {len(tif.pages)} pages; only the first is analysed.")
        data = page.asarray()
        if planar:
            data = np.moveaxis(data, 0, -1)
        if page.photometric == tifffile.PHOTOMETRIC.PALETTE and page.colormap is not None:
            colormap = np.asarray(page.colormap)
            data = (colormap[:, data].transpose(1, 2, 0) / max(colormap.max(), 1) * 255).astype(np.uint8)
        elif page.photometric == tifffile.PHOTOMETRIC.MINISWHITE and data.ndim == 2:
            if data.dtype == bool:
                data = ~data
            else:
                data = (np.iinfo(data.dtype).max - data) if data.dtype.kind in "ui" else -data
        calibration = calibration_from_tiff(tif, image_path=path, notes=notes)
        instrument = instrument_from_tiff(tif)
    return np.ascontiguousarray(data), calibration, instrument


def _read_with_pillow(path: Path, max_pixels: int, notes: list[str]) -> np.ndarray:
    try:
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)
    except Image.DecompressionBombError as exc:
        # Pillow refuses huge headers itself (past ~179 Mpx); report it as what it is.
        found = re.search(r"\((\d+) pixels\)", str(exc))
        size = f" ({int(found.group(1)) / 1e6:.0f} Mpx)" if found else ""
        raise ImageTooLargeError(
            f"{path}: the image{size} is larger than the largest image analysed "
            f"({max_pixels / 1e6:.0f} Mpx) analysed in memory. {_LARGER}"
        ) from exc
    except UnidentifiedImageError as exc:
        raise ImageLoadError(
            f"{path}: not an image file that can be read (TIFF, PNG, JPEG, BMP, DM3/DM4, SER, EMD or MRC)."
        ) from exc
    with image:
        width, height = image.size
        _check_size(path, height, width, max_pixels)
        if getattr(image, "n_frames", 1) > 1:
            notes.append(f"The file has {image.n_frames} frames; only the first is analysed.")
        if image.mode == "P":
            image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        elif image.mode in ("1", "CMYK", "YCbCr", "LAB", "HSV"):
            image = image.convert("L" if image.mode == "1" else "RGB")
        elif image.mode in ("LA", "PA"):
            image = image.convert("RGBA")
        image.load()
        data = np.asarray(image)
    return np.ascontiguousarray(data)


def to_normalised_grey(original: np.ndarray, notes: list[str]) -> tuple[np.ndarray, float, float]:
    """Convert any image array to float32 grey in [0, 1].

    Returns the grey image and ``(offset, scale)`` such that ``grey * scale + offset`` is the
    intensity in the original units.
    """
    data = original
    if data.dtype.kind == "c":
        raise ImageLoadError("The image holds complex values (Fourier-transform data), not a real-space image.")
    if data.dtype.kind not in "uifb":
        raise ImageLoadError(f"The image holds {data.dtype} values, not intensities.")
    if data.ndim == 3:
        if data.shape[2] == 4:
            alpha = data[..., 3]
            if alpha.min() != alpha.max():
                notes.append("The image has transparency; the alpha channel is ignored.")
            data = data[..., :3]
        if data.shape[2] != 3:
            raise ImageLoadError(f"Cannot convert an image with {data.shape[2]} channels to grey.")
        grey = np.tensordot(data.astype(np.float32, copy=False), _LUMA, axes=([2], [0])).astype(np.float32)
        if original.dtype == np.uint8:
            return np.clip(grey / 255.0, 0.0, 1.0, out=grey), 0.0, 255.0
    else:
        if data.dtype in (np.uint8, np.bool_):
            if data.size and data.min() == data.max():
                notes.append(CONSTANT_NOTE)
            top = 255.0 if data.dtype == np.uint8 else 1.0
            return data.astype(np.float32) / np.float32(top), 0.0, top
        if data.dtype == np.float64 and _beyond_float32(data):
            return _normalise_wide(data, notes)
        grey = data.astype(np.float32, copy=True)
    finite = np.isfinite(grey)
    if not finite.all():
        if not finite.any():
            raise ImageLoadError("The image holds no finite values (all NaN or infinite).")
        low = float(grey[finite].min())
        notes.append(f"{int((~finite).sum())} NaN/infinite pixels were set to the image minimum.")
        grey[~finite] = low
    low, high = float(grey.min()), float(grey.max())
    scale = high - low
    if scale <= 0:
        notes.append(CONSTANT_NOTE)
        grey[:] = 0.0
        return grey, low, 1.0
    grey -= np.float32(low)
    grey *= np.float32(1.0 / scale)
    np.clip(grey, 0.0, 1.0, out=grey)  # float32 rounding can overshoot 1 by an ulp (wide integer ranges)
    return grey, low, scale


def _beyond_float32(data: np.ndarray) -> bool:
    """Whether finite values of a float64 image lie outside float32's range (they would become inf)."""
    finite = np.isfinite(data)
    top = np.finfo(np.float32).max
    return bool(np.max(data, where=finite, initial=0.0) > top or np.min(data, where=finite, initial=0.0) < -top)


def _normalise_wide(data: np.ndarray, notes: list[str]) -> tuple[np.ndarray, float, float]:
    """:func:`to_normalised_grey` of float64 data too large for float32, scaled in float64."""
    finite = np.isfinite(data)
    low = float(np.min(data, where=finite, initial=np.inf))
    high = float(np.max(data, where=finite, initial=-np.inf))
    scale = high - low
    if not np.isfinite(scale):
        raise ImageLoadError(f"The image's values span from {low:g} to {high:g}, too wide a range to analyse.")
    if not finite.all():
        notes.append(f"{int((~finite).sum())} NaN/infinite pixels were set to the image minimum.")
    grey = np.where(finite, data, low)
    grey -= low
    if scale <= 0:
        notes.append(CONSTANT_NOTE)
        return grey.astype(np.float32), low, 1.0
    grey *= 1.0 / scale
    return grey.astype(np.float32), low, scale
