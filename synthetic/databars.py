"""Instrument data bars and burned-in scale bars, drawn onto a specimen image, with their truth.

Layouts follow what the instruments write (sizes relative to the image, as they scale with it):

``zeiss``
    SmartSEM: a light (or dark) strip with a thin frame, text cells ("EHT = 5.00 kV", "Mag = ...")
    and, at the left, the label above a bar with end ticks; 0-3 specimen rows may remain below
    the strip, as on real Zeiss files.
``fei``
    FEI/Thermo: a black strip of header and value cells with white separators; the scale bar is a
    white line broken in the middle by its label ("━━ 500 µm ━━"). Its height is the
    ``DatabarHeight`` the files record.
``jeol``
    A dark strip of one text line; the label left of a bar with end ticks.
``hitachi``
    A dark strip; the scale bar is a row of eleven ticks on a base line, the label above it.
``tescan``
    A grey strip of black text cells; the label left of a plain bar.
``top``
    A dark strip at the top of the image (older instruments, some TEM software).
``overlay``
    No strip: a bar and its label burned into a corner of the image (published figures).

:func:`draw` returns the image and a :class:`BarTruth`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from particle_gui.core.units import parse_length_nm
from synthetic import fonts

VENDORS: tuple[str, ...] = ("zeiss", "fei", "jeol", "hitachi", "tescan", "top", "overlay")

#: Label texts as instruments and people write them, with their value in nm: 1-2-5 steps mostly,
#: and every other one-digit step (3, 4, 6-9) or 15/25/75 times a power of ten (an instrument picks
#: the bar that fits its field: "300 nm", "4 µm", "250 nm", "7.5 µm").
_LENGTHS = (("nm", (5, 10, 20, 50, 100, 200, 500)), ("µm", (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500)),
            ("mm", (1, 2)))
_OTHER_STEPS = (3, 4, 6, 7, 8, 9, 1.5, 2.5, 7.5)
_OTHER_SHARE = 0.35
_SPELLINGS = {"nm": ("nm",), "µm": ("µm", "μm", "um", "µm", "μm"), "mm": ("mm",)}


@dataclass(frozen=True)
class BarTruth:
    """What was drawn: the strip's rows (``None`` for ``overlay``), the bar and its label."""

    vendor: str
    strip: tuple[int, int] | None  # (first row, end row), end exclusive
    side: str  # "bottom", "top" or "none"
    bar: tuple[int, int, int]  # (x_start, x_end exclusive, row of its centre line)
    label: str
    label_nm: float
    light: bool
    font: str
    font_px: int = 0  # the label's font size
    #: The length the label states, in pixels: the bar's extent, less a tick's width where its ends
    #: are ticks (the length runs between their centres).
    length_px: int = 0


def random_label(rng: np.random.Generator) -> tuple[str, float]:
    """A label such as '200 nm', '0.5 μm', '300nm' or '7.5 um', and its length in nm."""
    unit, values = _LENGTHS[int(rng.choice(len(_LENGTHS), p=[0.45, 0.5, 0.05]))]
    value = values[int(rng.integers(len(values)))]
    if rng.random() < _OTHER_SHARE and unit != "mm":  # the same decade, another step: 3, 4, 6-9, 1.5, 2.5, 7.5
        decade = 10 ** np.floor(np.log10(value))
        value = round(float(_OTHER_STEPS[int(rng.integers(len(_OTHER_STEPS)))] * decade), 6)
        if unit == "µm" and value < 0.1 or unit == "nm" and value < 1:
            value *= 10
    spelling = str(rng.choice(_SPELLINGS[unit]))
    decimals = int(rng.choice(3, p=[0.8, 0.1, 0.1]))  # "1 µm", "1.0 µm", "1.00 µm"
    number = f"{value:g}" if decimals == 0 or value != int(value) else f"{value:.{decimals}f}"
    text = f"{number}{' ' if rng.random() < 0.7 else ''}{spelling}"
    return text, parse_length_nm(text)


def _font(family: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(fonts.font_path(family)), max(6, int(size)))


def _text(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, font, fill: int, anchor: str = "la") -> tuple:
    draw.text(xy, text, font=font, fill=fill, anchor=anchor)
    return draw.textbbox(xy, text, font=font, anchor=anchor)


def _bar_with_ticks(draw, x0: int, x1: int, y: int, thick: int, tick: int, fill: int) -> None:
    draw.rectangle([x0, y - thick // 2, x1 - 1, y - thick // 2 + thick - 1], fill=fill)
    if tick > 0:
        draw.rectangle([x0, y - tick, x0 + thick - 1, y + tick], fill=fill)
        draw.rectangle([x1 - thick, y - tick, x1 - 1, y + tick], fill=fill)


def draw(rng: np.random.Generator, vendor: str, specimen: np.ndarray, *, light: bool | None = None,
         family: str | None = None, label: tuple[str, float] | None = None) -> tuple[np.ndarray, BarTruth]:
    """Draw a ``vendor`` data bar onto ``specimen`` ([0, 1] float, (H, W)); returns (image, truth).

    The strip is added below (or above) the specimen, as instruments do, except for ``zeiss``,
    which overwrites the bottom rows and leaves 0-3 specimen rows under it, and ``overlay``.
    """
    if vendor not in VENDORS:
        raise ValueError(f"Unknown layout {vendor!r}; choose one of {', '.join(VENDORS)}.")
    family = family or str(rng.choice(fonts.available(training=True)))
    text, nm = label or random_label(rng)
    h, w = specimen.shape
    light = bool(rng.random() < 0.5) if light is None else light
    bg, ink = (235 + int(rng.integers(0, 21)), int(rng.integers(0, 30))) if light else (int(rng.integers(0, 25)),
                                                                                        225 + int(rng.integers(0, 31)))
    strip_h = max(18, int(round(h * rng.uniform(0.06, 0.1))))
    if vendor == "overlay":
        return _overlay(rng, specimen, text, nm, family, light)
    canvas = np.full((strip_h, w), bg, np.uint8)
    pil = Image.fromarray(canvas)
    d = ImageDraw.Draw(pil)
    size = max(8, int(strip_h * rng.uniform(0.28, 0.42)))
    font = _font(family, size)
    bar_len = int(w * rng.uniform(0.08, 0.25))
    thick = max(1, int(round(strip_h * rng.uniform(0.04, 0.1))))
    if vendor == "zeiss":
        d.rectangle([0, 0, w - 1, strip_h - 1], outline=ink, width=max(1, thick // 2))
        x0 = int(w * 0.02)
        box = _text(d, (x0, strip_h * 0.12), text, font, ink)
        y = int(box[3] + strip_h * 0.22)
        _bar_with_ticks(d, x0, x0 + bar_len, y, thick, int(strip_h * 0.14), ink)
        length = bar_len - thick
        _fill_cells(d, rng, font, ink, w, strip_h, start=x0 + max(bar_len, box[2] - x0) + int(w * 0.05),
                    items=("EHT = 5.00 kV", "WD = 4.9 mm", "Signal A = InLens", "Mag = 25.00 K X", "Date :2 Dec 2026"))
        bar = (x0, x0 + bar_len, y)
    elif vendor == "fei":
        d.line([0, 0, w, 0], fill=ink, width=1)
        cells = int(rng.integers(4, 8))
        cell_w = int(w * 0.55 / cells)
        for i in range(cells):
            d.line([i * cell_w, 0, i * cell_w, strip_h], fill=ink)
            _text(d, (i * cell_w + cell_w / 2, strip_h * 0.25), str(rng.choice(["HV", "mag", "HFW", "WD", "det", "curr"])),
                  _font(family, size * 0.8), ink, "mm")
            _text(d, (i * cell_w + cell_w / 2, strip_h * 0.72), str(rng.choice(["5.00 kV", "120 x", "1.73 mm", "ETD"])),
                  _font(family, size * 0.8), ink, "mm")
        x0 = cells * cell_w + int(w * 0.03)
        bar_len = min(bar_len * 2, w - x0 - 4)
        y = int(strip_h * 0.3)
        mid = x0 + bar_len / 2
        box = d.textbbox((mid, y), text, font=font, anchor="mm")
        gap = (box[2] - box[0]) / 2 + 4
        if mid - gap < x0 + 8:  # the label is wider than the bar: lengthen the bar around it
            bar_len = min(int(2 * gap) + 16, w - x0 - 4)
            mid = x0 + bar_len / 2
        if mid - gap > x0:
            d.rectangle([x0, y - thick // 2, mid - gap, y - thick // 2 + thick - 1], fill=ink)
            d.rectangle([mid + gap, y - thick // 2, x0 + bar_len - 1, y - thick // 2 + thick - 1], fill=ink)
        _text(d, (mid, y), text, font, ink, "mm")
        bar, length = (x0, x0 + bar_len, y), bar_len
    elif vendor in ("jeol", "tescan", "top"):
        x = int(w * 0.02)
        y = strip_h // 2
        if vendor == "tescan":
            for item in ("SEM HV: 20.0 kV", "View field: 12.5 µm", "Det: SE"):
                box = _text(d, (x, y), item, _font(family, size * 0.85), ink, "lm")
                x = box[2] + int(w * 0.03)
        else:
            for item in ("SEI", "15kV", "WD10mm", "x5,000"):
                box = _text(d, (x, y), item, font, ink, "lm")
                x = box[2] + int(w * 0.025)
        box = _text(d, (x, y), text, font, ink, "lm")
        x0 = box[2] + int(w * 0.015)
        bar_len = max(10, min(bar_len, int(w * 0.97) - x0))  # the bar ends inside the image
        _bar_with_ticks(d, x0, x0 + bar_len, y, thick, int(strip_h * 0.15) if vendor != "tescan" else 0, ink)
        bar, length = (x0, x0 + bar_len, y), bar_len - (thick if vendor != "tescan" else 0)
    elif rng.random() < 0.5:  # hitachi with a line under its ticks
        x0 = int(w * rng.uniform(0.55, 0.65))
        y = int(strip_h * 0.72)
        box = _text(d, (x0 + bar_len, y - strip_h * 0.18), text, font, ink, "rb")
        d.rectangle([x0, y, x0 + bar_len - 1, y + thick - 1], fill=ink)
        for k in range(11):
            tx = x0 + int(round(k * (bar_len - thick) / 10))
            d.rectangle([tx, y - int(strip_h * (0.16 if k % 5 == 0 else 0.09)), tx + thick - 1, y], fill=ink)
        _text(d, (int(w * 0.02), strip_h / 2), "S-4800 5.0kV 8.0mm x50.0k SE(U)", font, ink, "lm")
        bar, length = (x0, x0 + bar_len, y + thick // 2), bar_len - thick
    else:  # hitachi's ruler of ticks alone, the label under its right end (S-4800, SU8000, ...)
        x0, y, tick = draw_tick_ruler(d, rng, w, strip_h, bar_len, ink)
        _text(d, (x0 + bar_len, strip_h * 0.92), text, font, ink, "rb")
        _text(d, (int(w * 0.02), strip_h * 0.7), "SU8010 5.0kV 9.2mm x600 LM(L) 7/10/2018", font, ink, "lm")
        bar, length = (x0, x0 + bar_len, y), bar_len - tick
    strip = np.asarray(pil).astype(np.float32) / 255.0
    return _attach(rng, vendor, specimen, strip, bar, text, nm, light, family, size, length)


def draw_tick_ruler(d: ImageDraw.ImageDraw, rng: np.random.Generator, w: int, strip_h: int, bar_len: int,
                    ink: int) -> tuple[int, int, int]:
    """Eleven ticks without a line over ``bar_len`` pixels (the 1st, 6th and 11th taller), bottoms
    level, in the strip's top half; returns (first column, centre row of the short ticks, tick width)."""
    tick = max(1, int(round(strip_h * rng.uniform(0.04, 0.08))))
    x0 = int(w * rng.uniform(0.5, 0.6))
    bottom = int(strip_h * 0.45)
    short = max(3, int(strip_h * 0.14), 2 * tick)
    for k in range(11):
        tx = x0 + int(round(k * (bar_len - tick) / 10))
        d.rectangle([tx, bottom - (short * 3 // 2 if k % 5 == 0 else short), tx + tick - 1, bottom - 1], fill=ink)
    return x0, bottom - (short + 1) // 2, tick


def _fill_cells(d, rng, font, ink, w, strip_h, *, start: int, items: tuple[str, ...]) -> None:
    x = start
    for i, item in enumerate(items):
        if x > w * 0.85:
            break
        box = _text(d, (x, strip_h * (0.3 if i % 2 == 0 else 0.72)), item, font, ink, "lm")
        if i % 2 == 1:
            x = box[2] + int(w * 0.05)
    d.rectangle([int(w * 0.88), int(strip_h * 0.2), int(w * 0.96), int(strip_h * 0.8)], outline=ink, width=2)


def _attach(rng, vendor, specimen, strip, bar, text, nm, light, family, size, length) -> tuple[np.ndarray, BarTruth]:
    h, w = specimen.shape
    sh = strip.shape[0]
    x0, x1, y = bar
    if vendor == "top":
        image = np.concatenate([strip, specimen], axis=0)
        return image, BarTruth(vendor, (0, sh), "top", (x0, x1, y), text, nm, light, family, size, length)
    if vendor == "zeiss":
        below = int(rng.integers(0, 4))
        image = specimen.copy()
        first = h - sh - below
        image[first : first + sh] = strip
        return image, BarTruth(vendor, (first, first + sh), "bottom", (x0, x1, first + y), text, nm, light, family, size,
                               length)
    image = np.concatenate([specimen, strip], axis=0)
    return image, BarTruth(vendor, (h, h + sh), "bottom", (x0, x1, h + y), text, nm, light, family, size, length)


def _overlay(rng, specimen, text, nm, family, light) -> tuple[np.ndarray, BarTruth]:
    """A bar and label burned into the lower left or right of the image, on an optional box."""
    h, w = specimen.shape
    pil = Image.fromarray(np.clip(specimen * 255, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(pil)
    ink = 255 if not light else 0
    size = max(10, int(min(h, w) * rng.uniform(0.025, 0.06)))
    font = _font(family, size)
    bar_len = int(w * rng.uniform(0.1, 0.3))
    thick = max(2, int(size * rng.uniform(0.15, 0.35)))
    right = rng.random() < 0.5
    x0 = int(w * 0.05) if not right else int(w * 0.95) - bar_len
    y = int(h * 0.93)
    tbox = d.textbbox((x0 + bar_len / 2, y - thick - size * 0.3), text, font=font, anchor="mb")
    if rng.random() < 0.6:  # a box behind the bar and label
        pad = int(size * 0.4)
        d.rectangle([min(tbox[0], x0) - pad, tbox[1] - pad, max(tbox[2], x0 + bar_len) + pad, y + thick + pad],
                    fill=255 - ink)
    _text(d, (x0 + bar_len / 2, y - thick - size * 0.3), text, font, ink, "mb")
    d.rectangle([x0, y - thick // 2, x0 + bar_len - 1, y - thick // 2 + thick - 1], fill=ink)
    image = np.asarray(pil).astype(np.float32) / 255.0
    return image, BarTruth("overlay", None, "none", (x0, x0 + bar_len, y), text, nm, light, family, size, bar_len)
