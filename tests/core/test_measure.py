"""Known-answer tests for particle_gui.core.analysis.measure."""

import numpy as np
import pandas as pd
import pytest

from particle_gui.core.analysis.measure import add_calibrated_columns, measure_particles
from tests.core.synthetic import disc_mask

BASE_COLUMNS = [
    "id", "centroid_x", "centroid_y", "area", "perimeter", "ecd", "feret_max", "feret_min",
    "major_axis", "minor_axis", "feret_ratio", "ellipse_ratio", "bbox_width", "bbox_height", "circularity",
    "solidity", "mean_intensity", "touches_edge",
]
CALIBRATED = ["ecd_nm", "perimeter_nm", "feret_max_nm", "feret_min_nm", "major_axis_nm", "minor_axis_nm", "area_nm2"]


def zeros_like(labels):
    return np.zeros(labels.shape, np.float32)


@pytest.fixture(scope="module")
def disc_table():
    labels = np.zeros((64, 64), np.int32)
    labels[disc_mask((64, 64), [(31, 30)], 20)] = 1
    return measure_particles(labels, zeros_like(labels))


@pytest.fixture(scope="module")
def rectangle_table():
    labels = np.zeros((30, 60), np.int32)
    labels[10:20, 5:45] = 7  # 10 rows x 40 columns
    return measure_particles(labels, zeros_like(labels))


def test_disc_of_radius_20(disc_table):
    row = disc_table.iloc[0]
    r = 20
    assert len(disc_table) == 1 and row["id"] == 1
    assert (row["centroid_x"], row["centroid_y"]) == (30.0, 31.0)
    assert row["ecd"] == pytest.approx(2 * r, rel=0.02)
    assert row["circularity"] > 0.9
    assert row["solidity"] > 0.95
    assert row["feret_ratio"] < 1.1
    assert row["feret_max"] == pytest.approx(2 * r, rel=0.03)
    assert row["feret_min"] == pytest.approx(2 * r, rel=0.03)
    assert row["perimeter"] == pytest.approx(2 * np.pi * r, rel=0.05)
    assert row["major_axis"] == pytest.approx(row["minor_axis"], rel=1e-6)
    assert row["major_axis"] == pytest.approx(2 * r, rel=0.02)


def test_rectangle_10_by_40(rectangle_table):
    row = rectangle_table.iloc[0]
    assert row["id"] == 7
    assert row["area"] == 400
    assert (row["centroid_x"], row["centroid_y"]) == (24.5, 14.5)
    assert row["feret_min"] == pytest.approx(10.0)
    assert row["feret_max"] == pytest.approx(np.hypot(10, 40), rel=0.02)
    assert row["major_axis"] / row["minor_axis"] == pytest.approx(4.0, rel=0.02)
    assert row["feret_ratio"] == pytest.approx(np.hypot(10, 40) / 10, rel=0.02)
    assert row["solidity"] == pytest.approx(1.0, abs=1e-9)
    assert row["ecd"] == pytest.approx(np.sqrt(4 * 400 / np.pi))


def test_rotated_rectangle_feret():
    # A 6 x 30 bar rotated by 30 degrees: Feret diameters do not depend on orientation.
    yy, xx = np.mgrid[:80, :80] - 40.0
    angle = np.deg2rad(30)
    u = xx * np.cos(angle) + yy * np.sin(angle)
    v = -xx * np.sin(angle) + yy * np.cos(angle)
    labels = ((np.abs(u) <= 15) & (np.abs(v) <= 3)).astype(np.int32)
    row = measure_particles(labels, zeros_like(labels)).iloc[0]
    assert row["feret_max"] == pytest.approx(np.hypot(30, 6), rel=0.05)
    assert row["feret_min"] == pytest.approx(6.5, abs=1.0)


def test_diagonal_line_feret_min():
    labels = np.zeros((20, 20), np.int32)
    for i in range(10):
        labels[3 + i, 3 + i] = 1
    row = measure_particles(labels, zeros_like(labels)).iloc[0]
    assert row["feret_max"] == pytest.approx(np.hypot(9, 9) + 1, rel=1e-6)
    assert row["feret_min"] < 1.5
    assert row["feret_ratio"] > 5


def test_horizontal_line_and_single_pixel():
    labels = np.zeros((10, 10), np.int32)
    labels[2, 2:7] = 1
    labels[7, 7] = 2
    table = measure_particles(labels, zeros_like(labels))
    line, dot = table.iloc[0], table.iloc[1]
    assert (line["feret_max"], line["feret_min"], line["area"]) == (5.0, 1.0, 5.0)
    assert (dot["feret_max"], dot["feret_min"], dot["area"]) == (1.0, 1.0, 1.0)


def test_calibrated_columns(rectangle_table):
    labels = np.zeros((30, 60), np.int32)
    labels[10:20, 5:45] = 7
    table = measure_particles(labels, zeros_like(labels), pixel_size_nm=2.5)
    assert list(table.columns) == BASE_COLUMNS + CALIBRATED
    for name in ("ecd", "perimeter", "feret_max", "feret_min", "major_axis", "minor_axis"):
        assert table[f"{name}_nm"].iloc[0] == pytest.approx(rectangle_table[name].iloc[0] * 2.5)
    assert table["area_nm2"].iloc[0] == pytest.approx(400 * 2.5**2)


def test_add_calibrated_columns_replaces_and_removes(rectangle_table):
    at_2 = add_calibrated_columns(rectangle_table, 2.0)
    at_3 = add_calibrated_columns(at_2, 3.0)
    assert at_3["area_nm2"].iloc[0] == pytest.approx(400 * 9.0)
    assert list(at_3.columns) == BASE_COLUMNS + CALIBRATED
    assert list(add_calibrated_columns(at_3, None).columns) == BASE_COLUMNS


def test_uncalibrated_table_has_no_nm_columns(rectangle_table):
    assert list(rectangle_table.columns) == BASE_COLUMNS


@pytest.mark.parametrize("pixel_size_nm", [None, 2.0])
def test_empty_label_image_gives_empty_table_with_the_same_columns(pixel_size_nm):
    empty = measure_particles(np.zeros((16, 16), np.int32), np.zeros((16, 16), np.float32), pixel_size_nm=pixel_size_nm)
    labels = np.zeros((16, 16), np.int32)
    labels[4:8, 4:8] = 1
    full = measure_particles(labels, zeros_like(labels), pixel_size_nm=pixel_size_nm)
    assert len(empty) == 0
    assert list(empty.columns) == list(full.columns)
    pd.testing.assert_series_equal(empty.dtypes, full.dtypes)


def test_mean_intensity_in_original_units():
    labels = np.zeros((20, 20), np.int32)
    labels[2:6, 2:6] = 1
    labels[10:14, 10:14] = 2
    grey = np.zeros((20, 20), np.float32)
    grey[2:6, 2:6] = 0.25
    grey[10:14, 10:14] = 1.0
    table = measure_particles(labels, grey, intensity_offset=1000.0, intensity_scale=4000.0)
    np.testing.assert_allclose(table["mean_intensity"], [2000.0, 5000.0])


def test_ids_with_gaps_and_edge_flags():
    labels = np.zeros((20, 20), np.int32)
    labels[2:6, 2:6] = 3
    labels[10:14, 10:14] = 9
    table = measure_particles(labels, zeros_like(labels), edge_ids=np.array([9]))
    assert table["id"].tolist() == [3, 9]
    assert table["touches_edge"].tolist() == [False, True]
    assert table["area"].tolist() == [16.0, 16.0]


def test_ellipse_axes():
    yy, xx = np.mgrid[:60, :80]
    labels = (((xx - 40) / 30.0) ** 2 + ((yy - 30) / 10.0) ** 2 <= 1).astype(np.int32)
    row = measure_particles(labels, zeros_like(labels)).iloc[0]
    assert row["major_axis"] == pytest.approx(60, rel=0.03)
    assert row["minor_axis"] == pytest.approx(20, rel=0.05)
    assert row["feret_max"] == pytest.approx(61, rel=0.02)
