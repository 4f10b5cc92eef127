"""Known-answer tests for particle_gui.core.io.calibration.resolve_calibration."""

import re

import pytest

from particle_gui.core.io.calibration import (
    SOURCE_MANUAL,
    SOURCE_METADATA,
    SOURCE_SCALE_BAR,
    SOURCE_UNCALIBRATED,
    UNCALIBRATED,
    Calibration,
    resolve_calibration,
)

METADATA = Calibration(2.0, SOURCE_METADATA, "test tag")


def test_typed_pixel_size_overrides_metadata_with_provenance():
    calibration, warnings = resolve_calibration(
        METADATA, scale_bar_length_nm=1000.0, scale_bar_length_px=500.0, manual_pixel_size_nm=2.5
    )
    assert (calibration.source, calibration.pixel_size_nm) == (SOURCE_MANUAL, 2.5)
    assert "overrides metadata 2 nm/px" in calibration.detail
    assert len(warnings) == 1 and "overrides the metadata" in warnings[0] and "25.0%" in warnings[0]


def test_agreeing_override_is_recorded_but_silent():
    calibration, warnings = resolve_calibration(METADATA, manual_pixel_size_nm=2.01)
    assert calibration.source == SOURCE_MANUAL and "overrides metadata" in calibration.detail
    assert warnings == []


def test_users_scale_bar_overrides_metadata():
    # 1000 nm over 485.4 px = 2.0602 nm/px: 3 % above the metadata.
    calibration, warnings = resolve_calibration(METADATA, scale_bar_length_nm=1000.0, scale_bar_length_px=485.4369)
    assert calibration.source == SOURCE_SCALE_BAR
    assert calibration.pixel_size_nm == pytest.approx(2.0602, rel=1e-4)
    assert len(warnings) == 1 and "scale-bar calibration" in warnings[0]
    assert re.search(r"\b3(\.0)?\s?%", warnings[0])


class _Read:
    """A detected scale bar as :mod:`particle_gui.core.io.scalebar` reports it."""

    def __init__(self, label, length_nm, length_px, confidence):
        self.label, self.length_nm, self.length_px, self.confidence = label, length_nm, length_px, confidence
        self.confident = length_nm is not None and confidence >= 0.8
        self.pixel_size_nm = None if length_nm is None else length_nm / length_px


def test_read_scale_bar_is_checked_against_metadata():
    calibration, warnings = resolve_calibration(METADATA, detected=_Read("1 um", 1000.0, 485.4369, 0.99))
    assert calibration is METADATA
    assert len(warnings) == 1 and "disagrees with the metadata" in warnings[0] and "3.0%" in warnings[0]
    calibration, warnings = resolve_calibration(METADATA, detected=_Read("1 um", 1000.0, 495.0495, 0.99))
    assert calibration is METADATA and warnings == []


def test_read_scale_bar_calibrates_without_metadata():
    calibration, warnings = resolve_calibration(None, detected=_Read("200 nm", 200.0, 80, 0.97))
    assert (calibration.source, calibration.pixel_size_nm) == (SOURCE_SCALE_BAR, 2.5)
    assert "'200 nm'" in calibration.detail and warnings == []


def test_unsure_or_unread_scale_bar_never_calibrates():
    for bar in (_Read("200 nm", 200.0, 80, 0.5), _Read(None, None, 80, 0.0)):
        calibration, warnings = resolve_calibration(None, detected=bar)
        assert calibration is UNCALIBRATED
        assert len(warnings) == 1 and "not used" in warnings[0]


def test_scale_bar_only():
    calibration, warnings = resolve_calibration(None, scale_bar_length_nm=500.0, scale_bar_length_px=125.0)
    assert calibration.source == SOURCE_SCALE_BAR
    assert calibration.pixel_size_nm == pytest.approx(4.0)
    assert "500 nm" in calibration.detail and "125 px" in calibration.detail
    assert warnings == []


def test_typed_pixel_size_wins_over_scale_bar():
    calibration, _ = resolve_calibration(None, scale_bar_length_nm=500.0, scale_bar_length_px=125.0, manual_pixel_size_nm=9.0)
    assert calibration.source == SOURCE_MANUAL


def test_scale_bar_length_without_a_bar_warns_and_falls_back():
    calibration, warnings = resolve_calibration(METADATA, scale_bar_length_nm=500.0)
    assert calibration is METADATA
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
