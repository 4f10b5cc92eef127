"""Known-answer tests for particle_gui.core.units."""

import pytest

from particle_gui.core.errors import CalibrationError, ParticleGuiError
from particle_gui.core.units import format_length_nm, parse_length_nm, unit_to_nm


@pytest.mark.parametrize(
    ("text", "expected_nm"),
    [
        ("200nm", 200.0),
        ("2.5 µm", 2500.0),  # micro sign U+00B5
        ("2.5 μm", 2500.0),  # Greek mu U+03BC
        ("0.5um", 500.0),
        ("3e-9 m", 3.0),
        ("12 A", 1.2),
        ("12 Å", 1.2),
        ("1.5 mm", 1.5e6),
        ("  7 NM  ", 7.0),
        (".5 nm", 0.5),
        ("250 pm", 0.25),
        ("2 microns", 2000.0),
    ],
)
def test_parse_length_nm_known_values(text, expected_nm):
    assert parse_length_nm(text) == pytest.approx(expected_nm, rel=1e-12)


def test_bare_number_uses_default_unit():
    assert parse_length_nm("5", default_unit="um") == pytest.approx(5000.0)


@pytest.mark.parametrize("text", ["abc", "-5nm", "5 furlongs", "5", "", "nm", "0 nm", "1e-400 m"])
def test_parse_length_nm_rejects(text):
    with pytest.raises(CalibrationError):
        parse_length_nm(text)


def test_missing_unit_message_says_so():
    with pytest.raises(CalibrationError, match="no unit"):
        parse_length_nm("200")


def test_unknown_unit_names_the_unit():
    with pytest.raises(CalibrationError, match="furlongs"):
        parse_length_nm("5 furlongs")


def test_calibration_error_is_a_user_facing_error():
    assert issubclass(CalibrationError, ParticleGuiError)


@pytest.mark.parametrize(("unit", "nm"), [("µm", 1000.0), ("A", 0.1), ("m", 1e9), ("cm", 1e7), (" nm ", 1.0)])
def test_unit_to_nm(unit, nm):
    assert unit_to_nm(unit) == nm


def test_unit_to_nm_unknown():
    with pytest.raises(CalibrationError):
        unit_to_nm("parsec")


@pytest.mark.parametrize(
    ("length_nm", "text"),
    [(2500.0, "2.5 µm"), (48.0, "48 nm"), (0.5, "500 pm"), (2e6, "2 mm"), (1.0, "1 nm"), (1000.0, "1 µm")],
)
def test_format_length_nm(length_nm, text):
    assert format_length_nm(length_nm) == text


@pytest.mark.parametrize("length_nm", [0.25, 3.0, 48.0, 2500.0, 1.5e6])
def test_format_then_parse_round_trip(length_nm):
    assert parse_length_nm(format_length_nm(length_nm)) == pytest.approx(length_nm, rel=1e-4)
