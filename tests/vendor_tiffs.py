"""TIFFs carrying a real instrument's metadata (read from ../shared/data/vendor_sem) over synthetic pixels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile

from tests.shared_data import VENDOR_SEM, require

ZEISS_ULTRA = "test_tiff_Zeiss_SEM_512pix.tif"  # CZ_SEM: pixel 5.824988 nm, "ULTRA 55-36-06"
ZEISS_ULTRA_PIXEL_NM = 5.824988


def write_with_zeiss_tags(path: Path, image: np.ndarray, source: str = ZEISS_ULTRA) -> Path:
    """Write ``image`` ([0, 1] float) as an 8-bit TIFF carrying ``source``'s CZ_SEM tag bytes."""
    origin = require(VENDOR_SEM) / source
    raw = origin.read_bytes()
    with tifffile.TiffFile(origin) as tif:
        tag = tif.pages.first.tags[34118]
        payload = raw[tag.valueoffset : tag.valueoffset + tag.count]
    pixels = (np.clip(image, 0, 1) * 255).astype(np.uint8)
    tifffile.imwrite(path, pixels, extratags=[(34118, 7, len(payload), payload, True)])
    return path
