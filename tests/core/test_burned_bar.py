"""Labels burned into the image: the box behind them, characters their ink missed, unstable readings."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from particle_gui.core.io.burned_bar import boxed_ink, completed_box
from particle_gui.core.io.label_crop import MIN_LABEL_CONFIDENCE, cut_by_border, read_checked
from particle_gui.core.io.scalebar import ScaleBar
from synthetic import databars


def _specimen(seed: int = 0, level: float = 120.0) -> np.ndarray:
    """A grey specimen with dark and bright discs, some of them touching where a box will go."""
    rng = np.random.default_rng(seed)
    grey = rng.normal(level, 10, (300, 400))
    yy, xx = np.mgrid[:300, :400]
    for cy, cx, r, value in ((250, 90, 30, 0), (200, 330, 25, 255), (80, 80, 40, 30)):
        grey[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = value
    return np.clip(grey, 0, 255).astype(np.uint8)


def _boxed(box_colour: int, ink: int, text: str = "200 nm") -> tuple[np.ndarray, ScaleBar, tuple[int, int, int, int]]:
    """A bar and its label on a plain box at (120..280, 200..270) of the specimen."""
    pil = Image.fromarray(_specimen())
    draw = ImageDraw.Draw(pil)
    draw.rectangle([120, 200, 279, 269], fill=box_colour)
    draw.text((200, 245), text, font=databars._font("DejaVu Sans", 20), fill=ink, anchor="mb")
    draw.rectangle([140, 254, 259, 257], fill=ink)
    return np.asarray(pil), ScaleBar(140, 260, 255, 4), (120, 200, 280, 270)


def test_a_box_behind_a_bar_holds_only_the_bar_and_its_label():
    for box_colour, ink in ((255, 0), (0, 255)):
        image, bar, (x0, y0, x1, y1) = _boxed(box_colour, ink)
        image_in_box, text_ink, colour = boxed_ink(image, bar)
        assert colour == box_colour
        rows, columns = np.flatnonzero(text_ink.any(axis=1)), np.flatnonzero(text_ink.any(axis=0))
        assert y0 < rows[0] and rows[-1] < y1 - 1 and x0 < columns[0] and columns[-1] < x1 - 1
        assert text_ink[254:258, 140:260].all()  # the bar
        assert text_ink[225:246, 150:250].sum() > 100  # the label's type
        # outside the box, the specimen (a black disc touches the box's left side) is gone
        assert (image_in_box[:, :x0] == box_colour).all() and (image_in_box[y1:] == box_colour).all()
        assert (image_in_box[y0:y1, x0:x1] == image[y0:y1, x0:x1]).all()


def test_a_bar_on_the_specimen_itself_has_no_box():
    image = _specimen()
    image[254:258, 140:260] = 255
    assert boxed_ink(image, ScaleBar(140, 260, 255, 4)) is None


def test_a_character_the_ink_missed_joins_the_label_box():
    image, _, _ = _boxed(255, 0, text="5 um")
    dark = image[215:250, 125:275] < 128
    columns = 125 + np.flatnonzero(dark.any(axis=0))
    rows = 215 + np.flatnonzero(dark.any(axis=1))
    gaps = np.flatnonzero(np.diff(columns) > 3)  # "5" | "um"
    five_end, unit_start = columns[gaps[0]], columns[gaps[0] + 1]
    unit_only = (int(unit_start), int(rows[0]) + 3, int(columns[-1]) + 1, int(rows[-1]) + 1)
    grown = completed_box(image, unit_only, polarity=-1)
    assert grown[0] <= columns[0] and grown[2] == unit_only[2] and five_end < unit_start
    assert grown[1] <= rows[0] + 1  # the 5 stands taller than "um"
    # a box that holds its whole label is left as it is
    whole = (int(columns[0]), int(rows[0]), int(columns[-1]) + 1, int(rows[-1]) + 1)
    assert completed_box(image, whole, polarity=-1) == whole


def test_a_reading_that_changes_with_its_box_is_not_trusted():
    """A reader that reads the crop's width: the box as found and a wider crop disagree."""
    image, _, _ = _boxed(255, 0)

    def by_width(crop: np.ndarray) -> tuple[str, float]:
        return ("200 nm" if crop.shape[1] < 100 else "500 nm"), 0.99

    box, (text, nm, confidence) = read_checked(image, (160, 228, 240, 246), by_width, polarity=-1)
    assert (text, nm) == ("200 nm", 200.0) and confidence < MIN_LABEL_CONFIDENCE

    def steady(crop: np.ndarray) -> tuple[str, float]:
        return "200 nm", 0.99

    box, (text, nm, confidence) = read_checked(image, (160, 228, 240, 246), steady, polarity=-1)
    assert nm == 200.0 and confidence >= MIN_LABEL_CONFIDENCE


def test_a_unit_alone_is_no_label():
    """The reader reads "µm" alone as "1µm" with full confidence: a crop whose glyphs' tops are all
    level holds no number (digits stand as tall as capitals, the units' letters are x-height)."""
    from particle_gui.core.io.label_crop import number_stands_taller
    from particle_gui.core.io.label_reader import read_label

    def crop(text: str) -> np.ndarray:
        pil = Image.new("L", (120, 34), 240)
        ImageDraw.Draw(pil).text((6, 4), text, font=databars._font("DejaVu Sans Mono", 20), fill=15)
        return np.asarray(pil)

    assert [number_stands_taller(crop(t)) for t in ("µm", "nm", "5 µm", "500 nm", "0.5µm")] == [False, False, True,
                                                                                               True, True]
    text, confidence = read_label(crop("5 µm"))
    assert text.replace(" ", "") == "5µm" and confidence >= MIN_LABEL_CONFIDENCE


def test_a_label_the_image_border_cuts_is_not_trusted():
    """"50 nm" cut after its "n" by the image's right edge read "1nm" with confidence on a real EMPS
    image (2c6c108b4d): a label box that reaches the border may have lost characters beyond it."""
    image, _, _ = _boxed(255, 0)

    def steady(crop: np.ndarray) -> tuple[str, float]:
        return "200 nm", 0.99

    inside = (160, 228, 240, 246)
    assert read_checked(image, inside, steady, polarity=-1)[1][2] >= MIN_LABEL_CONFIDENCE
    cut = image[:, :239]  # the image ends one column inside the label
    box, (_, nm, confidence) = read_checked(cut, (160, 228, 239, 246), steady, polarity=-1)
    assert nm == 200.0 and confidence < MIN_LABEL_CONFIDENCE
    for cut_box, shape in (((0, 228, 80, 246), (300, 400)), ((160, 0, 240, 18), (300, 400)),
                           ((160, 282, 240, 300), (300, 400)), ((160, 228, 240, 246), (246, 400))):
        assert cut_by_border(cut_box, shape)
    assert not cut_by_border(inside, (300, 400))
    assert not cut_by_border((160, 228, 240, 246), (247, 400))  # a row of ground under it: whole
    assert cut_by_border((1, 228, 80, 246), (300, 400)) and not cut_by_border((1, 228, 80, 246), (300, 400), margin=1)
