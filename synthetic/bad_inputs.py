"""A corpus of bad and awkward input files, generated on demand (never stored in the repository).

Each case is one file as microscopists meet them: empty, half-copied, mislabelled, tiny, huge,
exotic pixel types, pathological content, awkward paths. Each comes with what the engine must
do with it: analyse it (with a known particle count and, where due, a warning) or refuse it
with a message containing given words. Generation needs only NumPy, tifffile and Pillow;
``--run`` also runs every case through the engine and prints the outcomes.

Most images are variations of one scene: 9 bright discs 24 px across on a 3 x 3 grid, well
away from the border, on a dark noisy background (256 x 256), so the right count is 9.

Usage::

    python -m synthetic.bad_inputs OUT_DIR [--run]
"""

from __future__ import annotations

import argparse
import io
import struct
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image, ImageDraw

SIZE = 256
DISC_DIAMETER = 24
CENTRES = [(64 + 64 * i, 64 + 64 * j) for i in range(3) for j in range(3)]
N_DISCS = len(CENTRES)
#: Pixels of the large cases: 20000 x 20000 (400 Mpx) and just over the 120 Mpx limit.
HUGE_SHAPE = (20_000, 20_000)
OVER_LIMIT_SHAPE = (11_000, 11_000)


@dataclass(frozen=True)
class Expect:
    """What the engine must do with a case.

    ``ok``: analysed, with ``count`` particles (inclusive range) and every word of
    ``warning`` in its warnings. Otherwise refused, with every word of ``error`` in the message
    (compared ignoring case).
    """

    ok: bool
    count: tuple[int, int] = (0, 0)
    warning: tuple[str, ...] = ()
    error: tuple[str, ...] = ()


def ok(count: int | tuple[int, int], *warning: str) -> Expect:
    low, high = (count, count) if isinstance(count, int) else count
    return Expect(ok=True, count=(low, high), warning=warning)


def refused(*words: str) -> Expect:
    return Expect(ok=False, error=words)


@dataclass(frozen=True)
class Case:
    """One corpus entry: written to ``<folder>/<name>/<filename>`` by ``write(path)``."""

    name: str
    filename: str
    write: Callable[[Path], None]
    expect: Expect
    note: str = ""
    #: What ``particle-gui analyze`` must do where it differs from loading the image (a TIFF too
    #: large to load is analysed in tiles).
    batch: Expect | None = None

    @property
    def batch_expect(self) -> Expect:
        return self.batch if self.batch is not None else self.expect


# --- the scene ---------------------------------------------------------------------------------


def scene(*, seed: int = 0, size: int = SIZE, diameter: float = DISC_DIAMETER, centres=CENTRES) -> np.ndarray:
    """Float64 scene in [0, 1]: background ~0.2, discs ~0.8, Gaussian noise 0.03."""
    rng = np.random.default_rng(seed)
    image = 0.2 + rng.normal(0.0, 0.03, (size, size))
    yy, xx = np.mgrid[:size, :size]
    for cy, cx in centres:
        image[(yy - cy) ** 2 + (xx - cx) ** 2 < (diameter / 2) ** 2] += 0.6
    return np.clip(image, 0.0, 1.0)


def as_uint8(image: np.ndarray) -> np.ndarray:
    return np.round(image * 255).astype(np.uint8)


def png_bytes(array: np.ndarray, **kwargs) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=kwargs.pop("format", "PNG"), **kwargs)
    return buffer.getvalue()


def tiff_bytes(array: np.ndarray, **kwargs) -> bytes:
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, array, **kwargs)
    return buffer.getvalue()


def _bytes(make: Callable[[], bytes]) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(make())


def _tiff(make: Callable[[], np.ndarray], **kwargs) -> Callable[[Path], None]:
    return lambda path: tifffile.imwrite(path, make(), **kwargs)


def _pillow(make: Callable[[], Image.Image], **kwargs) -> Callable[[Path], None]:
    return lambda path: make().save(path, **kwargs)


def _half(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _sparse_tiff(shape: tuple[int, int]) -> Callable[[Path], None]:
    # tifffile writes the header and leaves the (empty) data as a hole: a 400 Mpx file in 8 kB.
    return lambda path: tifffile.imwrite(path, shape=shape, dtype=np.uint8, bigtiff=True)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` x ``height`` grey pixels but holds almost no data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def with_nan_inf() -> np.ndarray:
    image = scene().astype(np.float32)
    image[5, 5] = np.nan
    image[5, 200:210] = np.inf
    image[250, 10] = -np.inf
    return image


def dense_packing() -> np.ndarray:
    """Touching discs 20 px across on a hexagonal lattice covering the whole image."""
    rng = np.random.default_rng(3)
    image = 0.2 + rng.normal(0.0, 0.02, (SIZE, SIZE))
    yy, xx = np.mgrid[:SIZE, :SIZE]
    for row, cy in enumerate(np.arange(0, SIZE + 20, 17.3)):
        for cx in np.arange(10 * (row % 2), SIZE + 20, 20.0):
            image[(yy - cy) ** 2 + (xx - cx) ** 2 < 10.0**2] = 0.8
    return np.clip(image, 0, 1)


def data_bar_scene(*, top: bool) -> np.ndarray:
    """The scene with a 40-row black instrument strip (white text blocks and scale bar) at the top or bottom."""
    image = scene(size=SIZE)
    canvas = np.zeros((SIZE + 40, SIZE))
    text = Image.new("L", (SIZE, 40), 0)
    ImageDraw.Draw(text).text((8, 8), "EHT = 5.00 kV  WD = 4 mm", fill=255)  # burned-in text
    strip = np.asarray(text, dtype=np.float64) / 255
    strip[26:30, 150:230] = 1.0  # the scale bar
    if top:
        canvas[:40], canvas[40:] = strip, image
    else:
        canvas[:SIZE], canvas[SIZE:] = image, strip
    return canvas


def screenshot() -> np.ndarray:
    """The scene pasted into a window screenshot: grey title bar, coloured buttons, a frame."""
    rgb = np.full((SIZE + 60, SIZE + 40, 3), 235, np.uint8)
    rgb[:30] = (60, 60, 70)
    for index, colour in enumerate([(255, 95, 86), (255, 189, 46), (39, 201, 63)]):
        rgb[10:20, 10 + 18 * index : 20 + 18 * index] = colour
    rgb[40 : 40 + SIZE, 20 : 20 + SIZE] = as_uint8(scene())[:, :, None]
    return rgb


LONG_DIR = "d" * 200
LONG_NAME = "x" * 246 + ".tif"  # 250 characters: the longest name whose outputs get a shortened stem


def cases() -> list[Case]:
    """Every case of the corpus."""

    def u8() -> np.ndarray:
        return as_uint8(scene())

    return [
        # --- not (complete) images -----------------------------------------------------------
        Case("empty", "empty.tif", lambda p: p.write_bytes(b""), refused("empty", "0 bytes")),
        Case("missing", "missing.tif", lambda p: None, refused("not found"), "listed, but not on disk"),
        Case("truncated_tiff", "half_copied.tif", _bytes(lambda: _half(tiff_bytes(u8()))), refused("incomplete")),
        Case("truncated_tiff_header", "header_only.tif", _bytes(lambda: tiff_bytes(u8())[:6]), refused("incomplete")),
        Case("truncated_png", "half_copied.png", _bytes(lambda: _half(png_bytes(u8()))), refused("incomplete")),
        Case("truncated_jpeg", "half_copied.jpg", _bytes(lambda: _half(png_bytes(u8(), format="JPEG"))),
             refused("incomplete")),
        Case("text_named_tif", "notes.tif", lambda p: p.write_text("Sample 12, 20 kV, WD 5 mm\n"),
             refused("not an image")),
        Case("html_named_png", "download.png",
             lambda p: p.write_text("<html><body>403 Forbidden</body></html>\n"), refused("not an image"),
             "an error page saved by a browser"),
        # --- wrong extension, right content ----------------------------------------------------
        Case("png_named_tif", "really_png.tif", _bytes(lambda: png_bytes(u8())), ok(N_DISCS)),
        Case("tiff_named_jpg", "really_tiff.jpg", _bytes(lambda: tiff_bytes(u8())), ok(N_DISCS)),
        Case("jpeg_named_png", "really_jpeg.png", _bytes(lambda: png_bytes(u8(), format="JPEG", quality=95)),
             ok(N_DISCS)),
        Case("gif_named_png", "really_gif.png", _bytes(lambda: png_bytes(u8(), format="GIF")), ok(N_DISCS)),
        # --- too small ---------------------------------------------------------------------------
        Case("pixel_1x1", "one_pixel.png", _pillow(lambda: Image.new("L", (1, 1), 128)), refused("1 x 1", "too small")),
        Case("pixel_2x2", "two_by_two.tif", _tiff(lambda: np.array([[0, 255], [255, 0]], np.uint8)),
             ok(0, "No particles")),
        Case("one_row", "one_row.tif", _tiff(lambda: u8()[:1]), refused("256 x 1", "too small")),
        Case("one_column", "one_column.png", _pillow(lambda: Image.fromarray(u8()[:, :1].copy())),
             refused("1 x 256", "too small")),
        # --- pixel types -------------------------------------------------------------------------
        Case("uint16", "sem_16bit.tif", _tiff(lambda: (scene() * 4000 + 100).astype(np.uint16)), ok(N_DISCS)),
        Case("uint16_png", "sem_16bit.png", _bytes(lambda: png_bytes((scene() * 60000).astype(np.uint16))),
             ok(N_DISCS)),
        Case("uint16_narrow_range", "narrow_16bit.tif", _tiff(lambda: (scene() * 40 + 1000).astype(np.uint16)),
             ok(N_DISCS), "40 grey levels used out of 65536"),
        Case("uint32", "counts_32bit.tif", _tiff(lambda: (scene() * 3e9).astype(np.uint32)), ok(N_DISCS)),
        Case("int32_negative", "signed_32bit.tif", _tiff(lambda: (scene() * 2e5 - 1e5).astype(np.int32)),
             ok(N_DISCS)),
        Case("int8_negative", "signed_8bit.tif", _tiff(lambda: (scene() * 250 - 125).astype(np.int8)), ok(N_DISCS)),
        Case("float16", "export_half_float.tif", _tiff(lambda: scene().astype(np.float16)), ok(N_DISCS)),
        Case("float64_negative", "negative_float.tif", _tiff(lambda: scene() * 0.5 - 1.0), ok(N_DISCS)),
        Case("float_nan_inf", "nan_inf.tif", _tiff(with_nan_inf), ok(N_DISCS, "NaN/infinite")),
        Case("float_all_nan", "all_nan.tif", _tiff(lambda: np.full((64, 64), np.nan, np.float32)),
             refused("no finite values")),
        Case("complex", "fft.tif", _tiff(lambda: np.fft.fft2(scene()).astype(np.complex64)), refused("complex")),
        Case("bilevel", "bilevel.tif", _tiff(lambda: scene() > 0.5), ok(N_DISCS)),
        Case("two_channel", "two_channel.tif", _tiff(lambda: np.stack([u8(), u8()], axis=-1), photometric="minisblack",
                                                     planarconfig="contig"), refused("not a 2-D image")),
        # --- colour, palette, transparency ---------------------------------------------------------
        Case("rgba_transparency", "rgba.png",
             _pillow(lambda: Image.fromarray(np.dstack([np.repeat(u8()[:, :, None], 3, 2),
                                                        np.tile(np.linspace(0, 255, SIZE, dtype=np.uint8), (SIZE, 1))]))),
             ok(N_DISCS, "transparency")),
        Case("palette_png", "palette.png", _pillow(lambda: Image.fromarray(u8()).convert("P")), ok(N_DISCS)),
        Case("palette_tiff", "palette.tif", _pillow(lambda: Image.fromarray(u8()).convert("P")), ok(N_DISCS)),
        Case("rgb_planar_tiff", "planar_rgb.tif", _tiff(lambda: np.stack([u8()] * 3), photometric="rgb",
                                                        planarconfig="separate"), ok(N_DISCS)),
        Case("cmyk_jpeg", "cmyk.jpg", _pillow(lambda: Image.fromarray(u8()).convert("CMYK"), quality=95),
             ok(N_DISCS)),
        Case("bmp", "old_scanner.bmp", _pillow(lambda: Image.fromarray(u8())), ok(N_DISCS)),
        Case("screenshot", "screenshot.png", _pillow(lambda: Image.fromarray(screenshot())), ok(0, "No particles"),
             "the title bar is excluded as a data bar at the top; the window's bright frame then owns the border, "
             "so the dark specimen area is cut by the edge: no particles, warned"),
        # --- TIFF structure ---------------------------------------------------------------------------
        Case("multipage_tiff", "stack.tif", _tiff(lambda: np.stack([u8()] * 5), photometric="minisblack"),
             ok(N_DISCS, "5 pages")),
        Case("bigtiff", "big_format.tif", _tiff(u8, bigtiff=True), ok(N_DISCS)),
        Case("tiled_compressed_tiff", "tiled.tif", _tiff(u8, tile=(64, 64), compression="zlib"), ok(N_DISCS)),
        # --- size -----------------------------------------------------------------------------------------
        Case("huge_20000", "montage_20000.tif", _sparse_tiff(HUGE_SHAPE), refused("20000 x 20000", "400 Mpx", "120 Mpx"),
             batch=ok(0, "25 tiles")),
        Case("over_limit", "montage_11000.tif", _sparse_tiff(OVER_LIMIT_SHAPE), refused("121 Mpx", "120 Mpx"),
             batch=ok(0, "9 tiles")),
        Case("huge_png_header", "montage_20000.png", _bytes(lambda: png_header_only(*HUGE_SHAPE)),
             refused("400 Mpx", "120 Mpx")),
        # --- content ------------------------------------------------------------------------------------------
        Case("constant", "constant.tif", _tiff(lambda: np.full((SIZE, SIZE), 128, np.uint8)),
             ok(0, "constant", "No particles")),
        Case("noise", "noise.tif", _tiff(lambda: np.random.default_rng(1).integers(0, 256, (SIZE, SIZE), np.uint8)),
             ok((0, 5000), "not clearly bimodal")),
        Case("all_particles", "packed.tif", _tiff(lambda: as_uint8(dense_packing())), ok((80, 200))),
        Case("giant_particle", "one_giant.tif", _tiff(lambda: as_uint8(scene(diameter=220, centres=[(128, 128)]))),
             ok(1, "covers 58 %")),
        Case("giant_cut_by_edge", "cut_giant.tif",
             _tiff(lambda: as_uint8(scene(diameter=300, centres=[(128, 128)]))), ok(0, "No particles")),
        Case("data_bar_bottom", "sem_bar_bottom.tif", _tiff(lambda: as_uint8(data_bar_scene(top=False))), ok(N_DISCS)),
        Case("data_bar_top", "sem_bar_top.tif", _tiff(lambda: as_uint8(data_bar_scene(top=True))), ok(N_DISCS)),
        # --- paths ------------------------------------------------------------------------------------------------
        Case("non_ascii_path", "Probe_Ä_µm_日本語/Bild_äöü_粒子.tif", _tiff(u8), ok(N_DISCS)),
        Case("long_path", f"{LONG_DIR}/{LONG_DIR}/{LONG_DIR}/{LONG_NAME}", _tiff(u8), ok(N_DISCS),
             "a 250-character name 620 characters deep"),
    ]


def generate(folder: str | Path, *, only: set[str] | None = None) -> list[tuple[Case, Path]]:
    """Write every case (or those named in ``only``) into ``folder``; returns (case, path) pairs."""
    folder = Path(folder)
    written = []
    for case in cases():
        if only is not None and case.name not in only:
            continue
        path = folder / case.name / case.filename
        path.parent.mkdir(parents=True, exist_ok=True)
        case.write(path)
        written.append((case, path))
    return written


def engine_outcome(path: Path) -> tuple[bool, int, str]:
    """Run one file through the engine: ``(ok, count, warnings or error message)``."""
    from particle_gui.core.output.batch import analyze_file
    from particle_gui.core.errors import ParticleGuiError
    from particle_gui.core.params import PipelineParams

    try:
        _, result, warnings = analyze_file(path, PipelineParams())
    except ParticleGuiError as exc:
        return False, 0, str(exc)
    return True, result.count, "; ".join(warnings)


def check(case: Case, ok_: bool, count: int, text: str) -> list[str]:
    """What is wrong with an outcome (empty when it is as expected)."""
    expect, problems = case.expect, []
    if ok_ != expect.ok:
        problems.append(f"expected {'a result' if expect.ok else 'a refusal'}, got {'a result' if ok_ else 'a refusal'}")
    elif ok_ and not expect.count[0] <= count <= expect.count[1]:
        problems.append(f"count {count} not in {expect.count}")
    for word in expect.warning if ok_ else expect.error:
        if word.lower() not in text.lower():
            problems.append(f"{word!r} missing")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder to write the corpus into")
    parser.add_argument("--run", action="store_true", help="run every case through the engine and report")
    args = parser.parse_args(argv)
    generated = generate(args.out)
    print(f"{len(generated)} cases written to {args.out}")
    if not args.run:
        return 0
    failures = 0
    for case, path in generated:
        ok_, count, text = engine_outcome(path)
        problems = check(case, ok_, count, text)
        failures += bool(problems)
        status = f"ok, {count} particles" if ok_ else "refused"
        print(f"{'FAIL' if problems else 'pass'}  {case.name:24s} {status:18s} {text[:110]}")
        for problem in problems:
            print(f"      {problem}")
    print(f"{len(generated) - failures} of {len(generated)} cases as expected")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
