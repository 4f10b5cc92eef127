"""Hot and cold pixels (particle_gui.core.analysis.outliers) and their place in the pipeline."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from particle_gui.core.io.loading import LoadedImage
from particle_gui.core.analysis.outliers import replace_outlier_pixels
from particle_gui.core.params import PipelineParams
from particle_gui.core.analysis.pipeline import Pipeline
from tests.core.synthetic import disc_image, grid_centres

CENTRES = grid_centres(20, spacing=56, origin=44, columns=5)


def loaded(grey: np.ndarray) -> LoadedImage:
    return LoadedImage(path=None, original=grey, grey=grey, intensity_offset=0.0, intensity_scale=1.0,
                       metadata_calibration=None)


@pytest.fixture(scope="module")
def clean() -> np.ndarray:
    return disc_image((256, 320), CENTRES, 10.0, noise=0.02)


def _inject(image: np.ndarray, fraction: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    index = rng.choice(image.size, int(fraction * image.size), replace=False)
    bad = image.copy()
    bad.flat[index] = rng.choice([0.0, 1.0], index.size)  # dead and hot pixels, cosmic-ray hits
    return bad, index


def _within_neighbours(image: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Whether each pixel lies within the range of its 8 neighbours (no longer a spike)."""
    padded = np.pad(image, 1, mode="reflect")
    ys, xs = np.unravel_index(index, image.shape)
    around = np.stack([padded[ys + 1 + dy, xs + 1 + dx] for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx], 1)
    values = image[ys, xs]
    return (values >= around.min(axis=1) - 0.05) & (values <= around.max(axis=1) + 0.05)


def test_injected_outliers_are_removed(clean):
    bad, index = _inject(clean, 0.002)
    cleaned, count = replace_outlier_pixels(bad)
    stood_out = ~_within_neighbours(bad, index)  # a 0 on a dark pixel is no outlier
    removed = _within_neighbours(cleaned, index)
    assert np.count_nonzero(stood_out) > 100
    assert np.count_nonzero(removed & stood_out) >= 0.99 * np.count_nonzero(stood_out)
    assert count == pytest.approx(np.count_nonzero(stood_out), abs=3)


def _flat(image: np.ndarray, index: np.ndarray, within: float = 0.1) -> np.ndarray:
    """Whether each pixel's 8 neighbours in ``image`` span less than ``within`` (no edge nearby)."""
    padded = np.pad(image, 1, mode="reflect")
    ys, xs = np.unravel_index(index, image.shape)
    around = np.stack([padded[ys + 1 + dy, xs + 1 + dx] for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx], 1)
    return np.ptp(around, axis=1) < within


@pytest.mark.parametrize(("background", "foreground", "noise"), [
    (0.08, 0.92, 0.01),  # a hot pixel on a bright particle stands only ~0.07 above it (the old rule's floor: 0.12)
    (0.3, 0.6, 0.05),  # noise puts the noise rule's step at ~0.3; pixels at the clip level need less
])
def test_outliers_are_removed_from_bright_regions_and_noisy_images(background, foreground, noise):
    image = disc_image((256, 320), CENTRES, 10.0, background=background, foreground=foreground, noise=noise, seed=3)
    bad, index = _inject(image, 0.002, seed=2)
    cleaned, count = replace_outlier_pixels(bad)
    # A spike barely above a particle's edge is let be (it could be a thin gap between particles): count
    # those away from edges.
    stood_out = ~_within_neighbours(bad, index) & _flat(image, index, within=0.1 + 6 * noise)
    removed = _within_neighbours(cleaned, index)
    assert np.count_nonzero(stood_out) > 100
    assert np.count_nonzero(removed & stood_out) >= 0.99 * np.count_nonzero(stood_out)
    assert np.count_nonzero(stood_out) <= count <= index.size
    assert replace_outlier_pixels(image)[1] == 0


def test_a_dark_gap_between_touching_particles_is_no_outlier():
    """Two bright particles touching along a diagonal dark gap, one gap pixel darker than the rest."""
    image = np.full((30, 30), 0.45, np.float32)
    ys, xs = np.mgrid[:30, :30]
    image[(xs - ys) > 1] = 0.75  # particle A
    image[(ys - xs) > 1] = 0.7  # particle B
    gap = np.abs(xs - ys) <= 1
    image[gap] = 0.4
    image[15, 15] = 0.3  # the gap narrows to a darker point
    cleaned, count = replace_outlier_pixels(image)
    assert count == 0 and cleaned[15, 15] == np.float32(0.3)


def test_pairs_are_outliers_but_lines_and_edges_are_not():
    image = np.full((40, 40), 0.3, np.float32)
    image[10, 10:12] = 1.0  # a two-pixel cosmic-ray hit
    image[20, 5:30] = 1.0  # a one-pixel line (a scale bar, a grid line)
    image[30:, 30:] = 0.9  # a corner of a bright particle
    cleaned, count = replace_outlier_pixels(image)
    assert count == 2 and np.all(cleaned[10, 10:12] == np.float32(0.3))
    np.testing.assert_array_equal(cleaned[15:], image[15:])


def test_clean_image_is_left_alone(clean):
    cleaned, count = replace_outlier_pixels(clean)
    assert count == 0 and cleaned is not None


def test_pipeline_counts_replaced_pixels_and_measures_as_if_clean(clean):
    bad, _ = _inject(clean, 0.002, seed=1)
    params = PipelineParams()
    reference = Pipeline(loaded(clean)).run(params)
    fixed = Pipeline(loaded(bad)).run(params)
    assert fixed.outlier_pixels > 100 and reference.outlier_pixels == 0
    assert fixed.count == reference.count
    assert fixed.summary.d50 == pytest.approx(reference.summary.d50, rel=0.005)
    off = dataclasses.replace(params, region=dataclasses.replace(params.region, remove_outlier_pixels=False))
    assert Pipeline(loaded(clean)).run(off).summary.d50 == pytest.approx(reference.summary.d50, rel=0.005)


def test_only_the_specimen_rows_are_cleaned_and_counted():
    """A label's "." in the data bar is a lone pixel too: it stays, and is not counted."""
    from tests.core.synthetic import add_data_bar

    image = add_data_bar(disc_image((296, 320), CENTRES, 10.0, noise=0.01), rows=40, bar_colour=0.0, ink=1.0)
    image[280, 300] = 1.0  # a decimal point in the strip (rows 256-296)
    spikes = [(30, 20), (90, 150), (200, 33)]
    for y, x in spikes:
        image[y, x] = 1.0
    region = Pipeline(loaded(image)).region(PipelineParams())
    assert region.data_bar is not None and region.data_bar.first_row == 256
    assert region.outliers == len(spikes)
    assert region.grey[280, 300] == 1.0 and all(region.grey[y, x] < 0.5 for y, x in spikes)
