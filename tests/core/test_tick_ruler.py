"""Hitachi's scale ruler: eleven ticks without a line, the length under its right end."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from particle_gui.core.io.databar import detect_data_bar
from particle_gui.core.io.scalebar import detect_scale_bar
from particle_gui.core.io.tick_ruler import find_rulers, thin_ink
from synthetic import databars


def _hitachi(seed: int = 0, hide_tick: int | None = None) -> tuple[np.ndarray, tuple[int, int], int]:
    """A grey specimen over a black strip holding a ruler of ticks and "500 nm" under its right end;
    returns (image in [0, 1], (first column, end column) of the ruler, tick width)."""
    rng = np.random.default_rng(seed)
    w, specimen_h, strip_h = 640, 440, 72
    image = Image.new("L", (w, specimen_h + strip_h), 0)
    specimen = rng.normal(120, 12, (specimen_h, w)).clip(0, 255).astype(np.uint8)
    image.paste(Image.fromarray(specimen), (0, 0))
    strip = Image.new("L", (w, strip_h), 0)
    draw = ImageDraw.Draw(strip)
    bar_len = 250
    x0, _, tick = databars.draw_tick_ruler(draw, rng, w, strip_h, bar_len, 230)
    if hide_tick is not None:  # a particle in front of one tick
        tx = x0 + int(round(hide_tick * (bar_len - tick) / 10))
        draw.rectangle([tx - 2, 0, tx + tick + 1, strip_h // 2], fill=0)
    databars._text(draw, (x0 + bar_len, strip_h * 0.92), "500 nm", databars._font("DejaVu Sans", 20), 230, "rb")
    databars._text(draw, (10, strip_h * 0.7), "SU8010 5.0kV 9.2mm x600", databars._font("DejaVu Sans", 20), 230, "lm")
    image.paste(strip, (0, specimen_h))
    return np.asarray(image, dtype=np.float32) / 255.0, (x0, x0 + bar_len), tick


def test_a_ruler_of_ticks_calibrates_from_its_label():
    for seed in (0, 1, 2):
        image, (x0, x1), tick = _hitachi(seed)
        scale = detect_scale_bar(image, detect_data_bar(image))
        assert scale is not None and abs(scale.x_start - x0) <= 1 and abs(scale.x_end - x1) <= 1
        assert scale.confident and scale.length_nm == 500.0
        # from the first tick's centre to the last one's
        assert abs(scale.length_px - (x1 - x0 - tick)) <= 1


def test_a_hidden_tick_does_not_shorten_the_ruler():
    image, (x0, x1), _ = _hitachi(0, hide_tick=4)
    rulers = [bar for mask in thin_ink((image * 255).astype(np.uint8)) for bar, _ in find_rulers(mask)]
    assert [(bar.x_start, bar.x_end) for bar in rulers] == [(x0, x1)]


def test_rows_of_dots_and_text_are_no_ruler():
    """An array of round particles and a line of text with upright letters ("lllllll 1111111")."""
    pil = Image.new("L", (400, 300), 30)
    draw = ImageDraw.Draw(pil)
    for row in range(5):
        for column in range(16):
            cx, cy = 20 + 22 * column, 20 + 22 * row
            draw.ellipse([cx - 4, cy - 4, cx + 4, cy + 4], fill=220)
    draw.text((20, 200), "lllllll 1111111 IIIIIII", font=databars._font("DejaVu Sans", 18), fill=220)
    image = np.asarray(pil)
    assert [find_rulers(mask) for mask in thin_ink(image)] == [[], []]


def _ruler_strip(tick: int, spacing: float, short: int, label: str, family: str, size: int,
                 ink: int = 10, ground: int = 245) -> tuple[np.ndarray, tuple[int, int]]:
    """A bright specimen over a light strip with eleven dark ticks ``spacing`` apart (positions
    rounded as an instrument draws them) and ``label`` under the right end; returns (image, ends)."""
    w, specimen_h, strip_h = 520, 300, 60
    pil = Image.new("L", (w, specimen_h + strip_h), ground)
    pil.paste(Image.fromarray(np.full((specimen_h, w), 150, np.uint8)), (0, 0))
    draw = ImageDraw.Draw(pil)
    x0, bottom = 260, specimen_h + 30
    for k in range(11):
        tx = x0 + int(round(k * spacing))
        draw.rectangle([tx, bottom - (short * 3 // 2 if k % 5 == 0 else short), tx + tick - 1, bottom - 1], fill=ink)
    x1 = x0 + int(round(10 * spacing)) + tick
    databars._text(draw, (x1, bottom + 4), label, databars._font(family, size), ink, "ra")
    return np.asarray(pil, dtype=np.float32) / 255.0, (x0, x1)


def test_ticks_as_wide_as_the_ground_between_them():
    """Dark ticks 6 px wide, 12 apart: the light ground between them forms a row of "ticks" too,
    one fewer and inside the ruler; it read "100.00nm" with confidence over the wrong length."""
    image, (x0, x1) = _ruler_strip(6, 12, 12, "100.00 nm", "Liberation Serif", 22)
    scale = detect_scale_bar(image, detect_data_bar(image))
    assert scale is not None and (scale.x_start, scale.x_end) == (x0, x1)
    assert scale.confident and scale.length_nm == 100.0


def test_small_ticks_rounded_to_whole_pixels():
    """Ticks 4.9 px apart are drawn 5, 5, 5, 5, 4, ... apart: one ruler from the first to the last."""
    image, (x0, x1) = _ruler_strip(2, 4.9, 4, "20 nm", "DejaVu Sans", 12)
    rulers = [bar for mask in thin_ink((image * 255).astype(np.uint8)) for bar, _ in find_rulers(mask)]
    assert [(bar.x_start, bar.x_end) for bar in rulers] == [(x0, x1)]


def test_a_thin_monospaced_label_under_a_ruler():
    """FreeMono's thin antialiased "5" fell apart at half the black ticks' contrast."""
    image, (x0, x1) = _ruler_strip(2, 11.5, 5, "5 µm", "FreeMono", 17)
    scale = detect_scale_bar(image, detect_data_bar(image))
    assert scale is not None and (scale.x_start, scale.x_end) == (x0, x1)
    assert scale.confident and scale.length_nm == 5000.0
