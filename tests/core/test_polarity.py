"""Known-answer tests for particle_gui.core.analysis.polarity."""

import pytest

from particle_gui.core.analysis.polarity import bright_particle_probability, detect_polarity, polarity_features
from tests.core.synthetic import disc_image, grid_centres

CENTRES = grid_centres(9, spacing=40, origin=24, columns=3)


def test_bright_discs_on_dark_are_bright():
    image = disc_image((128, 128), CENTRES, 9, background=0.2, foreground=0.8)
    assert bright_particle_probability(image, 0.5) > 0.9
    assert detect_polarity(image, 0.5) == "bright"


def test_dark_discs_on_bright_are_dark():
    image = disc_image((128, 128), CENTRES, 9, background=0.8, foreground=0.2)
    assert bright_particle_probability(image, 0.5) < 0.1
    assert detect_polarity(image, 0.5) == "dark"


def test_features_of_bright_discs():
    image = disc_image((128, 128), CENTRES, 9, background=0.2, foreground=0.8)
    border, bright_fraction, bright_largest, _, dark_largest, _ = polarity_features(image, 0.5)
    assert border == pytest.approx(-0.5)  # no bright pixel on the border
    assert bright_fraction == pytest.approx((image > 0.5).mean() - 0.5)
    assert bright_largest == pytest.approx(1 / 9, rel=0.01)  # nine equal discs
    assert dark_largest == pytest.approx(1.0)
