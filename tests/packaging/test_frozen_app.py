"""The frozen app in dist/ (``python packaging/build.py``), run as packaging/smoke_test.py runs it.

Skipped when there is no build, so ordinary test runs stay fast: build first, then
``QT_QPA_PLATFORM=offscreen python -m pytest tests/packaging``. ``PARTICLE_GUI_DIST`` points at
another build's dist folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.packaging._scripts import ROOT, load

smoke = load("smoke_test")
DIST = Path(os.environ.get("PARTICLE_GUI_DIST", ROOT / "dist"))
FORMATS = ROOT.parent / "shared" / "data" / "formats"
APP = smoke.FrozenApp.in_dist(DIST)

pytestmark = pytest.mark.skipif(not APP.exists(), reason=f"no frozen app in {DIST} (python packaging/build.py)")


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("frozen")


@pytest.fixture(scope="module")
def env(work) -> dict[str, str]:
    return smoke.app_environment(work / "config")


def test_version(work, env):
    smoke.check_version(APP, work, env)


def test_window_opens_analyses_the_sample_and_quits(work, env):
    smoke.check_gui_start(APP, work, env)
    smoke.check_gui_screenshot(APP, work, env)


def test_analyze_writes_results(work, env):
    smoke.check_cli_analyze(APP, work, env)


def test_vendor_formats_open_with_their_calibration(work, env):
    smoke.check_vendor_formats(APP, work, env, formats_dir=FORMATS if FORMATS.is_dir() else None)


def test_dl_segmentation_runs_the_bundled_model(work, env):
    if not (APP.models / "segmentation.onnx").is_file():
        pytest.skip("the build holds no segmentation model")
    smoke.check_dl_segmentation(APP, work, env)


def test_report_writes_pdf_and_workbook(work, env):
    smoke.check_report(APP, work, env)
