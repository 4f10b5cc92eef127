"""Reading windows of a TIFF too large to hold in memory (a stitched montage).

Only the pixels of the window asked for are read: uncompressed images through a memory map
opened for that read alone (so the process keeps none of the file resident), compressed or tiled
ones by decoding just the strips or tiles the window meets. Intensities are normalised as
:func:`~particle_gui.core.io.loading.to_normalised_grey` does for a whole image, with the range of
the whole montage (found in one streaming pass where the data are not 8-bit).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile

from particle_gui.core.errors import ImageLoadError
from particle_gui.core.io.calibration import Calibration
from particle_gui.core.io.instrument import InstrumentInfo, instrument_from_tiff
from particle_gui.core.io.loading import CONSTANT_NOTE, file_sha256
from particle_gui.core.io.metadata import calibration_from_tiff

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
#: Rows read at a time by the streaming passes (intensity range, overview).
BAND_ROWS = 1024


def tiff_pixel_count(path: str | Path) -> int | None:
    """Pixels of a TIFF's first page, read from its header only; None when it is not a readable TIFF."""
    try:
        with tifffile.TiffFile(path) as tif:
            if not tif.pages:
                return None
            shape = tif.pages.first.shape
            return int(shape[-2] * shape[-3]) if len(shape) == 3 and shape[0] in (3, 4) and shape[-1] not in (3, 4) \
                else int(shape[0] * shape[1]) if len(shape) >= 2 else None
    except Exception:  # not a TIFF, truncated header: the normal loader says what is wrong
        return None


@dataclass(frozen=True, eq=False)
class MontageSource:
    """A TIFF's first page, read window by window.

    Attributes
    ----------
    path : Path
    shape : (int, int)
        Height and width.
    channels : int
        1 for grey, 3 or 4 for colour (the alpha channel is ignored).
    dtype : numpy.dtype
    intensity_offset, intensity_scale : float
        ``grey * intensity_scale + intensity_offset`` gives intensities in the original units.
    metadata_calibration : Calibration or None
    instrument : InstrumentInfo or None
    sha256 : str
    warnings : tuple of str
    """

    path: Path
    shape: tuple[int, int]
    channels: int
    dtype: np.dtype
    intensity_offset: float
    intensity_scale: float
    metadata_calibration: Calibration | None
    instrument: InstrumentInfo | None
    sha256: str
    warnings: tuple[str, ...] = ()

    def read(self, top: int, bottom: int, left: int, right: int) -> np.ndarray:
        """The stored values of rows ``top:bottom`` and columns ``left:right`` (a new array)."""
        height, width = self.shape
        if not (0 <= top < bottom <= height and 0 <= left < right <= width):
            raise ValueError(f"window {(top, bottom, left, right)} outside the image of {width} x {height} pixels")
        try:
            with tifffile.TiffFile(self.path) as tif:
                return _read_window(tif.pages.first, self.path, (top, bottom, left, right))
        except Exception as exc:  # decoders raise many types for truncated or corrupt data
            raise ImageLoadError(f"{self.path}: cannot read rows {top}-{bottom}: the file is incomplete or damaged "
                                 f"(truncated, still being copied, or corrupt): {exc}.") from exc

    def grey(self, top: int, bottom: int, left: int, right: int) -> np.ndarray:
        """The window as float32 grey in [0, 1], scaled with the whole montage's range."""
        return self.to_grey(self.read(top, bottom, left, right))

    def to_grey(self, data: np.ndarray) -> np.ndarray:
        """Stored values (a window) as float32 grey in [0, 1], scaled with the whole montage's range."""
        values = _luminance(data)
        low = np.float32(self.intensity_offset)
        values[~np.isfinite(values)] = low
        values -= low
        values *= np.float32(1.0 / self.intensity_scale)
        return np.clip(values, 0.0, 1.0, out=values)


def open_montage(path: str | Path) -> MontageSource:
    """Open a TIFF for reading by windows, with the intensity range of the whole image.

    Raises
    ------
    ImageLoadError
        Not a TIFF, no 2-D image on its first page, or colour stored plane by plane.
    """
    path = Path(path)
    notes: list[str] = []
    try:
        with tifffile.TiffFile(path) as tif:
            if not tif.pages:
                raise ImageLoadError(f"{path}: the TIFF holds no image.")
            page = tif.pages.first
            if page.planarconfig == tifffile.PLANARCONFIG.SEPARATE and page.ndim == 3:
                raise ImageLoadError(f"{path}: colour stored plane by plane cannot be read in tiles; "
                                     "save the montage as grey or interleaved RGB.")
            if page.ndim not in (2, 3) or (page.ndim == 3 and page.shape[-1] not in (3, 4)):
                raise ImageLoadError(f"{path}: the first TIFF page has shape {page.shape}, not a 2-D image.")
            if page.dtype is None or page.dtype.kind not in "uifb":
                raise ImageLoadError(f"{path}: the image holds {page.dtype} values, not intensities.")
            if len(tif.pages) > 1:
                notes.append(f"The TIFF has {len(tif.pages)} pages; only the first is analysed.")
            calibration = calibration_from_tiff(tif, image_path=path, notes=notes)
            instrument = instrument_from_tiff(tif)
            shape, channels, dtype = (int(page.shape[0]), int(page.shape[1])), \
                (int(page.shape[2]) if page.ndim == 3 else 1), page.dtype
    except ImageLoadError:
        raise
    except Exception as exc:
        raise ImageLoadError(f"{path}: cannot read the TIFF: {' '.join(str(exc).split()) or type(exc).__name__}.") from exc
    source = MontageSource(path, shape, channels, np.dtype(dtype), 0.0, 1.0, calibration, instrument,
                           file_sha256(path), tuple(notes))
    offset, scale = _intensity_range(source, notes)
    return MontageSource(path, shape, channels, np.dtype(dtype), offset, scale, calibration, instrument,
                         source.sha256, tuple(notes))


def _intensity_range(source: MontageSource, notes: list[str]) -> tuple[float, float]:
    """``(offset, scale)`` of the whole image: 8-bit and boolean data by their type, others by a pass."""
    if source.dtype == np.uint8:
        return 0.0, 255.0
    if source.dtype == np.bool_:
        return 0.0, 1.0
    low, high, bad = np.inf, -np.inf, 0
    height, width = source.shape
    for top in range(0, height, BAND_ROWS):
        values = _luminance(source.read(top, min(top + BAND_ROWS, height), 0, width))
        finite = np.isfinite(values)
        bad += int(values.size - finite.sum())
        if finite.any():
            low = min(low, float(values[finite].min()))
            high = max(high, float(values[finite].max()))
    if not np.isfinite(low):
        raise ImageLoadError(f"{source.path}: the image holds no finite values (all NaN or infinite).")
    if bad:
        notes.append(f"{bad} NaN/infinite pixels were set to the image minimum.")
    if high <= low:
        notes.append(CONSTANT_NOTE)
        return low, 1.0
    return low, high - low


def _luminance(data: np.ndarray) -> np.ndarray:
    """Grey float32 values of a window: colour by luma (alpha dropped), grey as it is."""
    if data.ndim == 3:
        return np.tensordot(data[..., :3].astype(np.float32, copy=False), _LUMA, axes=([2], [0])).astype(np.float32)
    return data.astype(np.float32, copy=True)


def _read_window(page: tifffile.TiffPage, path: Path, window: tuple[int, int, int, int]) -> np.ndarray:
    top, bottom, left, right = window
    if page.is_memmappable:
        mapped = np.memmap(path, dtype=page.dtype.newbyteorder(page.parent.byteorder), mode="r",
                           offset=page.dataoffsets[0], shape=page.shape)
        try:
            return np.array(mapped[top:bottom, left:right], dtype=page.dtype)
        finally:
            mapped._mmap.close()  # type: ignore[attr-defined]  # unmap now: nothing of the file stays resident
    return _decode_window(page, window)


def _decode_window(page: tifffile.TiffPage, window: tuple[int, int, int, int]) -> np.ndarray:
    """Decode only the strips or tiles that ``window`` meets."""
    top, bottom, left, right = window
    height, width = int(page.shape[0]), int(page.shape[1])
    if page.is_tiled:
        seg_rows, seg_cols = int(page.tilelength), int(page.tilewidth)
    else:
        seg_rows, seg_cols = int(page.rowsperstrip) or height, width
    across = -(-width // seg_cols)
    wanted = [row * across + col
              for row in range(top // seg_rows, (bottom - 1) // seg_rows + 1)
              for col in range(left // seg_cols, (right - 1) // seg_cols + 1)]
    channels = int(page.shape[2]) if page.ndim == 3 else 1
    out = np.zeros((bottom - top, right - left, channels), dtype=page.dtype)
    offsets = [page.dataoffsets[i] for i in wanted]
    counts = [page.databytecounts[i] for i in wanted]
    for data, index in page.parent.filehandle.read_segments(offsets, counts, indices=wanted, sort=True):
        segment, where, _ = page.decode(data, index, jpegtables=page.jpegtables)
        if segment is None:  # a missing segment reads as zeros
            continue
        seg_top, seg_left = int(where[2]), int(where[3])
        tile = segment[0]  # (rows, cols, samples) of the first (only) depth plane
        rows = slice(max(top, seg_top), min(bottom, seg_top + tile.shape[0], height))
        cols = slice(max(left, seg_left), min(right, seg_left + tile.shape[1], width))
        out[rows.start - top:rows.stop - top, cols.start - left:cols.stop - left] = \
            tile[rows.start - seg_top:rows.stop - seg_top, cols.start - seg_left:cols.stop - seg_left]
    return out[..., 0] if channels == 1 else out
