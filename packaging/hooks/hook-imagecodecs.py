"""imagecodecs: the codec modules that tifffile uses to read and write TIFF compressions.

imagecodecs loads its ~80 codec modules lazily (``imagecodecs.__getattr__``), so PyInstaller
sees none of them. All of them with their libraries are ~80 MB; the TIFF codecs below are a
fraction of that. A codec left out raises ``DelayedImportError`` when used, and tifffile then
reports the file as unreadable (the app shows the message): formats such as AVIF, JPEG XL,
Blosc or SZ3 inside a TIFF are not seen from electron microscopes.
"""

TIFF_CODECS = (
    "_shared", "_shared_cython",  # used by the others
    "_imcd",  # LZW, PackBits, delta, floating-point predictor, bit order, packed integers
    "_ccitt",  # CCITT fax (bilevel)
    "_zlib", "_deflate",  # Adobe deflate
    "_lzma", "_zstd", "_bz2",
    "_jpeg8", "_ljpeg", "_jpegsof3",  # JPEG, lossless JPEG
    "_jpeg2k",  # JPEG 2000 (slide scanners)
)
# Left out as well (1.8 MB on Windows): JPEG XR, LERC, PNG and WebP inside a TIFF (HD Photo and GIS
# formats, never written by a microscope).
hiddenimports = [f"imagecodecs.{name}" for name in TIFF_CODECS]
