"""Calibration in the window: overriding metadata, reference standards and their profiles (real widgets)."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from particle_gui.core.io.profiles import load_profiles
from particle_gui.gui.widgets.standard_dialog import ProfilesDialog, StandardDialog
from particle_gui.paths import profiles_path
from tests.core.synthetic import disc_image, grid_centres
from tests.vendor_tiffs import ZEISS_ULTRA_PIXEL_NM, write_with_zeiss_tags

ERROR = 1.03


@pytest.fixture
def standard(tmp_path):
    centres = [(r + 0.5, c + 0.5) for r, c in grid_centres(42, spacing=34, origin=24, columns=7)]
    diameter_px = 100.0 / (ZEISS_ULTRA_PIXEL_NM * ERROR)
    return write_with_zeiss_tags(tmp_path / "standard.tif", disc_image((256, 260), centres, diameter_px / 2, noise=0.02))


def _open(qtbot, controller, path):
    with qtbot.waitSignal(controller.resultChanged, timeout=20_000):
        assert controller.open_image(path)


def test_typed_pixel_size_overrides_metadata_with_a_warning(qtbot, standard, new_controller):
    controller = new_controller()
    _open(qtbot, controller, standard)
    assert controller.current.calibration()[0].source == "metadata"
    with qtbot.waitSignal(controller.calibrationChanged, timeout=5_000) as blocker:
        controller.set_manual_pixel_size(7.0)
    calibration, warnings = blocker.args
    assert (calibration.source, calibration.pixel_size_nm) == ("manual", 7.0)
    assert "overrides metadata" in calibration.detail
    assert len(warnings) == 1 and "overrides the metadata" in warnings[0]


def test_reference_standard_profile_corrects_the_image(qtbot, standard, new_controller):
    controller = new_controller()
    _open(qtbot, controller, standard)
    with qtbot.waitSignal(controller.calibrationChanged, timeout=10_000) as blocker:
        profile = controller.calibrate_from_standard("ultra psl", spheres_nm=100.0)
    assert profile.factor == pytest.approx(ERROR, rel=0.01)
    calibration, _ = blocker.args
    assert calibration.pixel_size_nm == pytest.approx(ZEISS_ULTRA_PIXEL_NM * ERROR, rel=0.01)
    assert "ultra psl" in calibration.detail
    assert [p.name for p in load_profiles(profiles_path())] == ["ultra psl"]
    again = new_controller()  # a new session finds the profile and applies it on opening
    _open(qtbot, again, standard)
    assert again.current.calibration()[0].pixel_size_nm == pytest.approx(ZEISS_ULTRA_PIXEL_NM * ERROR, rel=0.01)
    assert again.set_profiles([])
    assert again.current.calibration()[0].pixel_size_nm == pytest.approx(ZEISS_ULTRA_PIXEL_NM)


def test_standard_dialog_needs_a_length_and_a_name(qtbot):
    dialog = StandardDialog("Zeiss ULTRA")
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()
    dialog.length.setText("100 parsecs")
    assert not ok.isEnabled() and "unit" in dialog.problem.text().lower()
    dialog.length.setText("463 nm")
    dialog.kind.setCurrentIndex(1)
    assert not ok.isEnabled()
    dialog.name.setText("grating")
    assert ok.isEnabled()
    assert dialog.choice() == ("grating", None, 463.0)


def test_profiles_dialog_deletes_and_merges(qtbot, standard, new_controller):
    controller = new_controller()
    _open(qtbot, controller, standard)
    first = controller.calibrate_from_standard("a", spheres_nm=100.0)
    second = controller.calibrate_from_standard("b", spheres_nm=100.0)
    dialog = ProfilesDialog(controller.profiles)
    qtbot.addWidget(dialog)
    assert dialog.list.count() == 2 and "Zeiss ULTRA" in dialog.list.item(0).text()
    dialog.list.setCurrentRow(0)
    dialog.delete_button.click()
    assert [p.name for p in dialog.profiles] == ["b"]
    dialog.merge([first, second])
    assert sorted(p.name for p in dialog.profiles) == ["a", "b"] and dialog.list.count() == 2
