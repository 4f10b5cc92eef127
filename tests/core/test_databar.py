"""Known-answer tests for particle_gui.core.io.databar on synthetic instrument strips."""

import numpy as np
import pytest

from particle_gui.core.io.databar import DataBar, detect_data_bar, to_uint8
from particle_gui.core.io.scalebar import detect_scale_bar
from tests.core.synthetic import add_data_bar, disc_image, noisy_specimen

SHAPE = (400, 300)  # 400 rows, 300 columns; the strip is the bottom 40 rows


@pytest.fixture(scope="module")
def black_strip():
    return add_data_bar(noisy_specimen(SHAPE), rows=40, bar_colour=0.0, ink=1.0, bar_length=120, bar_thickness=4)


@pytest.fixture(scope="module")
def white_strip():
    return add_data_bar(noisy_specimen(SHAPE, seed=1), rows=40, bar_colour=1.0, ink=0.0, bar_length=120)


def test_black_strip_with_white_bar(black_strip):
    bar = detect_data_bar(black_strip)
    assert bar is not None
    assert bar.first_row == 360 and bar.height == 40 and bar.colour == 0
    assert bar.rows == (360, 400)
    scale = detect_scale_bar(black_strip, bar)
    assert scale is not None
    assert scale.length_px == 120
    assert (scale.x_start, scale.x_end) == (150, 270)
    assert 380 <= scale.y < 384 and scale.thickness == 4


def test_white_strip_with_black_bar(white_strip):
    bar = detect_data_bar(white_strip)
    assert bar is not None
    assert (bar.first_row, bar.colour) == (360, 255)
    assert detect_scale_bar(white_strip, bar).length_px == 120


@pytest.mark.parametrize(("length", "x"), [(60, 150), (160, 130)])
def test_scale_bar_length_follows_the_bar(length, x):
    image = add_data_bar(noisy_specimen(SHAPE, seed=2), bar_length=length, bar_x=x)
    scale = detect_scale_bar(image, detect_data_bar(image))
    assert (scale.x_start, scale.length_px) == (x, length)


def test_plain_noisy_image_has_no_data_bar():
    image = noisy_specimen(SHAPE, seed=3)
    assert detect_data_bar(image) is None


def test_flat_strip_without_text_is_not_a_data_bar():
    image = noisy_specimen(SHAPE, seed=4)
    image[360:] = 0.0  # a black border, no text or bar in it
    assert detect_data_bar(image) is None


def test_constant_image_has_no_data_bar():
    assert detect_data_bar(np.full(SHAPE, 0.5, np.float32)) is None


def test_tiny_image_has_no_data_bar():
    assert detect_data_bar(np.zeros((20, 20), np.float32)) is None


@pytest.mark.parametrize("noise", [0.0, 0.004, 0.02])
@pytest.mark.parametrize("bottom_row", [388, 395, 399])
def test_tem_bright_background_with_dark_discs_near_bottom_is_not_a_data_bar(noise, bottom_row):
    # A bright flat background (the "bar colour" dominates every row) with dark particles,
    # including a dense row of them cut by the bottom edge.
    centres = [(bottom_row, x) for x in range(12, 300, 25)] + [(60, 80), (150, 200), (250, 40), (320, 150)]
    image = disc_image(SHAPE, centres, 12, background=0.85, foreground=0.3, noise=noise, seed=bottom_row)
    assert detect_data_bar(image) is None


def test_scale_bar_burned_into_image_without_data_bar():
    image = np.full(SHAPE, 0.5, np.float32)
    image[350:354, 100:180] = 1.0
    scale = detect_scale_bar(image, None)
    assert (scale.x_start, scale.x_end, scale.thickness) == (100, 180, 4)
    assert 350 <= scale.y < 354


def test_no_scale_bar_in_plain_image():
    assert detect_scale_bar(np.full(SHAPE, 0.5, np.float32), None) is None


def test_scale_bar_ignores_edge_touching_lines():
    image = np.full(SHAPE, 0.5, np.float32)
    image[370:373, 0:250] = 1.0  # a frame line starting at the border, not a scale bar
    assert detect_scale_bar(image, None) is None


def test_data_bar_rows_property():
    assert DataBar(first_row=10, height=5, colour=0).rows == (10, 15)


def test_to_uint8_rounds_and_clips():
    values = np.array([-0.5, 0.0, 0.5 / 255, 0.4, 1.0, 2.0], np.float32)
    np.testing.assert_array_equal(to_uint8(values), [0, 0, 1, 102, 255, 255])


def _framed(strip_colour: float, frame_colour: float, frame_rows: int, below: np.ndarray | None = None) -> np.ndarray:
    """A 40-row strip (rows 360-400 of SHAPE) framed by ``frame_rows`` lines, with ``below`` rows under it."""
    image = add_data_bar(noisy_specimen(SHAPE, seed=6), rows=40, bar_colour=strip_colour, ink=frame_colour, bar_length=120)
    image[360 : 360 + frame_rows] = image[400 - frame_rows :] = frame_colour
    image[360:, :frame_rows] = image[360:, -frame_rows:] = frame_colour
    if below is not None:
        image = np.concatenate([image, below], axis=0)
    return image


def test_a_wide_frame_line_at_the_image_edge_belongs_to_the_strip():
    """Four frame rows fill half the strip's first eight rows: still the strip's, not specimen."""
    bar = detect_data_bar(_framed(0.05, 0.98, frame_rows=4))
    assert bar is not None and bar.rows == (360, 400)


def test_saturated_specimen_rows_under_a_framed_strip_are_not_the_strip():
    """A light strip with a dark frame, and two nearly saturated specimen rows under it (Zeiss)."""
    below = np.full((2, SHAPE[1]), 1.0, np.float32)
    below[:, ::11] = 0.9  # a specimen: not quite flat
    bar = detect_data_bar(_framed(0.98, 0.05, frame_rows=2, below=below))
    assert bar is not None and bar.rows == (360, 400) and bar.side == "bottom"


@pytest.mark.parametrize(("specimen_level", "strip_level"), [(0.0, 21 / 255), (1.0, 230 / 255)])
def test_a_flat_saturated_specimen_against_a_strip_of_another_grey(specimen_level, strip_level):
    """A JEOL strip of grey 21 under a specimen saturated black (or a light strip under white): the
    specimen's flat rows were taken for frame lines, all the way up, and no strip was found."""
    specimen = noisy_specimen(SHAPE)
    specimen[200:] = specimen_level  # the specimen's last 160 rows flat
    image = add_data_bar(specimen, rows=40, bar_colour=strip_level, ink=1.0 - specimen_level)
    bar = detect_data_bar(image)
    assert bar is not None and bar.rows == (360, 400)
