"""Scale-bar labels in layouts that the generated benchmark showed unread: a label centred on the
rows of a bar drawn in two halves, a Zeiss cell whose line the bar's ticks reach, and small type
whose digits run into their unit."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from particle_gui.core.io.databar import detect_data_bar
from particle_gui.core.io.label_crop import number_stands_taller
from particle_gui.core.io.scalebar import detect_scale_bar
from synthetic import databars
from synthetic.scenes import random_scene


def _with_strip(strip: Image.Image, seed: int = 5) -> np.ndarray:
    width = strip.size[0]
    specimen, _ = random_scene(np.random.default_rng(seed), (400, width), median_px=20.0)
    return np.vstack([specimen, np.asarray(strip, np.float32) / 255.0])


def test_a_label_centred_on_the_rows_of_a_bar_in_two_halves():
    """FEI/Thermo: "--- 500.00 nm ---", the text's middle on the bar's rows. The m's top stroke lay
    on those rows, long enough to be taken for the bar's line, and the m went with it ("500.00")."""
    strip = Image.new("L", (900, 60), 5)
    draw = ImageDraw.Draw(strip)
    font = databars._font("Cantarell", 24)
    draw.text((10, 30), "HV 5.00 kV  WD 4.1 mm", font=font, fill=240, anchor="lm")
    baseline = 40
    draw.text((600, baseline), "500.00 nm", font=font, fill=240, anchor="ms")
    box = draw.textbbox((600, baseline), "500.00 nm", font=font, anchor="ms")
    y = baseline + font.getbbox("m", anchor="ls")[1] + 1  # the bar's rows hold the m's top stroke
    draw.rectangle([440, y - 1, box[0] - 6, y + 1], fill=240)
    draw.rectangle([box[2] + 6, y - 1, 760, y + 1], fill=240)
    image = _with_strip(strip)
    scale = detect_scale_bar(image, detect_data_bar(image))
    assert scale is not None and (scale.x_start, scale.x_end) == (440, 761)
    assert scale.confident and scale.label == "500.00nm"


def test_a_bar_whose_ticks_reach_its_cells_line():
    """Zeiss draws its fields in cells; a bar whose end ticks touch the cell's bottom line was one
    piece with the whole frame."""
    strip = Image.new("L", (800, 60), 248)
    draw = ImageDraw.Draw(strip)
    draw.rectangle([0, 0, 799, 59], outline=20, width=2)
    draw.line([(600, 0), (600, 59)], fill=20, width=2)
    font = databars._font("Open Sans", 18)
    draw.text((20, 22), "0.5 µm", font=font, fill=20, anchor="lm")
    draw.rectangle([18, 48, 110, 51], fill=20)
    for x in (18, 107):
        draw.rectangle([x, 40, x + 3, 57], fill=20)  # down to the cell's line
    draw.text((610, 20), "EHT = 5.00 kV", font=font, fill=20, anchor="lm")
    image = _with_strip(strip)
    scale = detect_scale_bar(image, detect_data_bar(image))
    assert scale is not None and (scale.x_start, scale.x_end) == (18, 111)
    assert scale.confident and scale.length_nm == 500.0


def _crop(text: str, family: str, size: int) -> np.ndarray:
    font = databars._font(family, size)
    box = font.getbbox(text)
    pad = max(2, (box[3] - box[1]) // 4)
    pil = Image.new("L", (box[2] - box[0] + 2 * pad, box[3] - box[1] + 2 * pad), 15)
    ImageDraw.Draw(pil).text((pad - box[0], pad - box[1]), text, font=font, fill=235)
    return np.asarray(pil)


def test_small_digits_joined_to_their_unit_still_stand_taller():
    """At 9-14 px (serif) type "20um" is two pieces, "2" and "0um", whose tops are level: the
    columns' tops show the number; a unit alone still shows none."""
    labels = [("20um", "FreeSerif", 11), ("100nm", "Nimbus Sans Narrow", 11), ("0.2µm", "Liberation Serif", 9),
              ("20um", "Liberation Serif", 12), ("100nm", "Liberation Serif", 14), ("0.2µm", "Nimbus Roman", 10)]
    assert [number_stands_taller(_crop(*label)) for label in labels] == [True] * len(labels)
    units = [(unit, family, size) for unit in ("µm", "nm", "um") for family in ("FreeSerif", "DejaVu Sans")
             for size in (14, 20, 30)]
    assert [number_stands_taller(_crop(*unit)) for unit in units] == [False] * len(units)


def _burned(bar_box: tuple[int, int, int, int], label: str, *, ticks: int = 0, seed: int = 2) -> np.ndarray:
    """A grey specimen with a white bar (antialiased: drawn at 4x and reduced) and ``label`` above it."""
    specimen, _ = random_scene(np.random.default_rng(seed), (480, 640), median_px=18.0)
    grey = (0.25 + 0.4 * specimen).astype(np.float32)
    big = Image.new("L", (640 * 4, 480 * 4), 0)
    draw = ImageDraw.Draw(big)
    x0, y0, x1, y1 = (4 * v for v in bar_box)
    draw.rectangle([x0, y0, x1 - 1, y1 - 1], fill=255)
    if ticks:
        for x in (x0, x1 - (y1 - y0)):
            draw.rectangle([x, y0 - 4 * ticks, x + (y1 - y0) - 1, y1 - 1 + 4 * ticks], fill=255)
    font = databars._font("DejaVu Sans", 4 * 26)
    draw.text(((x0 + x1) // 2, y0 - 12), label, font=font, fill=255, anchor="mb")
    overlay = np.asarray(big.resize((640, 480), Image.BOX), np.float32) / 255.0
    return np.maximum(grey, overlay)


def _strip_bar(ticks: int) -> np.ndarray:
    """A dark data bar whose white bar (x 420-520, rows 20.75-26.25: its top and bottom rows a
    quarter covered, half of their pixels ink) has ``ticks`` px high ticks at its ends, or none, and
    "100 nm" above it; drawn at 4x, reduced."""
    big = Image.new("L", (640 * 4, 50 * 4), 5)
    draw = ImageDraw.Draw(big)
    draw.text((10 * 4, 25 * 4), "EHT = 5.00 kV", font=databars._font("DejaVu Sans", 4 * 14), fill=250, anchor="lm")
    draw.rectangle([420 * 4, 83, 520 * 4 - 1, 105 - 1], fill=250)
    for x in (420, 515) if ticks else ():
        draw.rectangle([x * 4, 83 - 4 * ticks, (x + 5) * 4 - 1, 105 - 1 + 4 * ticks], fill=250)
    draw.text((470 * 4, 16 * 4), "100 nm", font=databars._font("DejaVu Sans", 4 * 12), fill=250, anchor="mb")
    strip = np.asarray(big.resize((640, 50), Image.BOX), np.float32)
    for row in (20, 26):  # compression noise on the bar's edge rows
        strip[row] += np.random.default_rng(row).normal(0, 10, strip.shape[1])
    return _with_strip(Image.fromarray(np.clip(strip, 0, 255).astype(np.uint8)))


def test_a_plain_bar_is_as_long_as_it_is_drawn():
    """A plain bar's antialiased top and bottom rows reach its ends: they were taken for end ticks and
    the bar's thickness taken off its length (28 real EMPS bars 3-15 px short, the pixel size up to
    19 % too large)."""
    image = _strip_bar(ticks=0)
    scale = detect_scale_bar(image, detect_data_bar(image))
    assert scale is not None and scale.confident and scale.length_nm == 100.0
    assert scale.end_marks == (False, False) and scale.length_px == 100
    image = _strip_bar(ticks=4)
    ticked = detect_scale_bar(image, detect_data_bar(image))
    assert ticked is not None and ticked.end_marks == (True, True) and ticked.length_px == 100 - ticked.thickness


def test_a_thick_short_bar_is_a_bar():
    """Papers draw bars as solid blocks four times as long as thick ("200 nm" over a 96 x 23 block)."""
    image = _burned((500, 430, 596, 453), "200 nm")
    scale = detect_scale_bar(image)
    assert scale is not None and (scale.x_start, scale.x_end) == (500, 596)
    assert scale.confident and scale.length_nm == 200.0 and scale.length_px == 96
