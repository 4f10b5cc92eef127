"""Reference-standard calibration profiles (particle_gui.core.io.profiles) and ``particle-gui calibrate``.

The standards are synthetic images carrying the CZ_SEM tag of a real Zeiss file (read from
../shared/data/vendor_sem): spheres drawn 3 % larger than the metadata says, or a grating.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from particle_gui.cli import main
from particle_gui.core.io.calibration import Calibration
from particle_gui.core.errors import CalibrationError
from particle_gui.core.io.instrument import InstrumentInfo
from particle_gui.core.io.loading import load_image
from particle_gui.core.io.profiles import (
    load_profiles,
    make_profile,
    matching_profile,
    pitch_px,
    pixel_size_from_spheres,
    save_profiles,
)
from tests.core.synthetic import disc_image, grid_centres
from tests.vendor_tiffs import ZEISS_ULTRA_PIXEL_NM as META_NM
from tests.vendor_tiffs import write_with_zeiss_tags
ERROR = 1.03  # the instrument's pixel is 3 % larger than it writes


@pytest.fixture
def spheres_standard(tmp_path):
    # 100 nm spheres; the instrument's pixel is really 5.825 * 1.03 nm, so they are 100 / that px wide
    diameter_px = 100.0 / (META_NM * ERROR)
    centres = [(r + 0.5, c + 0.5) for r, c in grid_centres(42, spacing=34, origin=24, columns=7)]
    path = tmp_path / "standard.tif"
    return write_with_zeiss_tags(path, disc_image((256, 260), centres, diameter_px / 2, noise=0.02))


def test_the_copied_tags_read_as_zeiss(spheres_standard):
    image = load_image(spheres_standard)
    assert image.metadata_calibration.pixel_size_nm == pytest.approx(META_NM, rel=1e-6)
    assert image.instrument.key == "Zeiss ULTRA 55-36-06"


def test_sphere_standard_gives_the_magnification_error():
    pixel, measured = pixel_size_from_spheres(np.full(50, 20.0) + np.linspace(-1, 1, 50), 100.0)
    assert pixel == pytest.approx(5.0) and measured["count"] == 50
    with pytest.raises(CalibrationError, match="at least 3"):
        pixel_size_from_spheres(np.array([10.0]), 100.0)


@pytest.mark.parametrize("period", [9.5, 23.0])
def test_grating_pitch_to_a_tenth_of_a_percent(period):
    x, y = np.arange(640), np.arange(480)
    cross = (np.sin(2 * np.pi * x / period)[None, :] > 0) * 0.6 + (np.sin(2 * np.pi * y / period)[:, None] > 0) * 0.4
    noisy = cross + np.random.default_rng(0).normal(0, 0.1, cross.shape)
    assert pitch_px(noisy)[0] == pytest.approx(period, rel=1e-3)
    with pytest.raises(CalibrationError, match="No grating"):
        pitch_px(np.random.default_rng(1).random((200, 200)))


def test_profile_matches_instrument_and_magnification(tmp_path):
    instrument = InstrumentInfo("Zeiss", "Merlin-61-08", magnification=20000.0)
    profile = make_profile("merlin 20k", instrument=instrument, metadata=Calibration(2.0, "metadata", "tag"),
                           pixel_size_nm=2.06, standard="spheres 100 nm", measured={})
    assert profile.factor == pytest.approx(1.03)
    assert profile.matches(InstrumentInfo("Zeiss", "Merlin-61-08", magnification=20100.0))
    assert not profile.matches(InstrumentInfo("Zeiss", "Merlin-61-08", magnification=25000.0))
    assert not profile.matches(InstrumentInfo("Zeiss", "Sigma-1", magnification=20000.0))
    corrected = profile.apply(Calibration(1.5, "metadata", "tag"))
    assert corrected.pixel_size_nm == pytest.approx(1.545) and "merlin 20k" in corrected.detail
    path = tmp_path / "profiles.json"
    save_profiles(path, [profile])
    assert load_profiles(path) == [profile]
    assert matching_profile(load_profiles(path), instrument) == profile
    path.write_text("{broken")
    with pytest.raises(CalibrationError, match="cannot be read"):
        load_profiles(path)


def test_calibrate_then_analyze_applies_the_profile(spheres_standard, tmp_path, capsys):
    profiles = tmp_path / "profiles.json"
    assert main(["calibrate", str(spheres_standard), "--spheres", "100nm", "--name", "ultra psl",
                 "--profiles", str(profiles)]) == 0
    saved = load_profiles(profiles)[0]
    assert saved.factor == pytest.approx(ERROR, rel=0.01)  # the 3 % error, found from 42 spheres
    assert saved.instrument == "Zeiss ULTRA 55-36-06" and saved.measured["count"] >= 30
    out = tmp_path / "out"
    assert main(["analyze", str(spheres_standard), "--out", str(out), "--profiles", str(profiles)]) == 0
    run = json.loads((out / "run.json").read_text())
    calibration = run["inputs"][0]["calibration"]
    assert calibration["pixel_size_nm"] == pytest.approx(META_NM * ERROR, rel=0.01)
    assert "ultra psl" in calibration["detail"]
    assert run["options"]["profiles"][0]["name"] == "ultra psl"
    rows = (out / "summary.csv").read_text().splitlines()
    assert "ultra psl" in rows[1] and "100" in rows[1]  # calibration detail; D50 about 100 nm
    assert main(["analyze", str(spheres_standard), "--out", str(tmp_path / "plain"), "--no-profiles"]) == 0
    plain = json.loads((tmp_path / "plain" / "run.json").read_text())["inputs"][0]["calibration"]
    assert plain["pixel_size_nm"] == pytest.approx(META_NM, rel=1e-6)
    assert main(["calibrate", "--list", "--profiles", str(profiles)]) == 0
    assert "ultra psl" in capsys.readouterr().out
