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
