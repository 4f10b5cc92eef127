"""Known-answer tests for particle_gui.core.calibration.resolve_calibration."""

import re

import pytest

from particle_gui.core.calibration import (
    SOURCE_MANUAL,
    SOURCE_METADATA,
    SOURCE_SCALE_BAR,
    SOURCE_UNCALIBRATED,
    UNCALIBRATED,
    Calibration,
    resolve_calibration,
)

METADATA = Calibration(2.0, SOURCE_METADATA, "test tag")


def test_metadata_wins_over_scale_bar_and_manual():
    calibration, warnings = resolve_calibration(
        METADATA, scale_bar_length_nm=1000.0, scale_bar_length_px=500.0, manual_pixel_size_nm=2.0
    )
    assert calibration is METADATA
    assert warnings == []


def test_scale_bar_disagreeing_by_3_percent_warns():
    # 1000 nm over 485.4 px = 2.0602 nm/px: 3 % above the metadata.
    calibration, warnings = resolve_calibration(METADATA, scale_bar_length_nm=1000.0, scale_bar_length_px=485.4369)
    assert calibration is METADATA
    assert len(warnings) == 1
    assert "scale bar" in warnings[0]
    assert re.search(r"\b3(\.0)?\s?%", warnings[0])


def test_scale_bar_disagreeing_by_1_percent_is_silent():
    calibration, warnings = resolve_calibration(METADATA, scale_bar_length_nm=1000.0, scale_bar_length_px=495.0495)
    assert calibration is METADATA
    assert warnings == []


def test_manual_value_disagreeing_with_metadata_warns():
    calibration, warnings = resolve_calibration(METADATA, manual_pixel_size_nm=2.5)
    assert calibration is METADATA
    assert len(warnings) == 1 and "manual" in warnings[0]


def test_scale_bar_only():
    calibration, warnings = resolve_calibration(None, scale_bar_length_nm=500.0, scale_bar_length_px=125.0)
    assert calibration.source == SOURCE_SCALE_BAR
    assert calibration.pixel_size_nm == pytest.approx(4.0)
    assert "500 nm" in calibration.detail and "125 px" in calibration.detail
    assert warnings == []


def test_scale_bar_wins_over_manual_without_metadata():
    calibration, _ = resolve_calibration(None, scale_bar_length_nm=500.0, scale_bar_length_px=125.0, manual_pixel_size_nm=9.0)
    assert calibration.source == SOURCE_SCALE_BAR


def test_scale_bar_length_without_a_bar_warns_and_falls_back():
    calibration, warnings = resolve_calibration(None, scale_bar_length_nm=500.0, manual_pixel_size_nm=3.0)
    assert calibration.source == SOURCE_MANUAL and calibration.pixel_size_nm == 3.0
    assert len(warnings) == 1 and "no scale bar" in warnings[0]


def test_manual_only():
    calibration, warnings = resolve_calibration(None, manual_pixel_size_nm=1.25)
    assert (calibration.pixel_size_nm, calibration.source) == (1.25, SOURCE_MANUAL)
    assert calibration.unit == "nm" and calibration.is_calibrated
    assert warnings == []


def test_nothing_is_uncalibrated():
    calibration, warnings = resolve_calibration(None)
    assert calibration is UNCALIBRATED
    assert calibration.pixel_size_nm is None and calibration.source == SOURCE_UNCALIBRATED
    assert calibration.unit == "px" and not calibration.is_calibrated
    assert warnings == []


def test_uncalibrated_metadata_does_not_win():
    calibration, _ = resolve_calibration(Calibration(None, SOURCE_METADATA), manual_pixel_size_nm=2.0)
    assert calibration.source == SOURCE_MANUAL


def test_describe():
    assert Calibration(2.5, SOURCE_SCALE_BAR).describe() == "2.5 nm/px from scale bar"
    assert "Zeiss" in Calibration(2.5, SOURCE_METADATA, "Zeiss CZ_SEM tag").describe()
    assert "pixels" in UNCALIBRATED.describe()
