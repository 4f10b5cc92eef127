"""Known-answer tests for particle_gui.core.io.metadata on TIFFs written with instrument tags."""

import numpy as np
import pytest
import tifffile

from particle_gui.core.io.calibration import SOURCE_METADATA
from particle_gui.core.io.loading import load_image
from particle_gui.core.io.metadata import calibration_from_tiff

CZ_SEM = 34118
FEI_SFEG = 34680
FEI_HELIOS = 34682
PIXELS = np.zeros((16, 16), np.uint8)

# SmartSEM writes unnamed values first (tifffile collects them in sem_metadata['']),
# then UPPERCASE keys each followed by a "Label = value unit" line.
ZEISS_WITH_EXACT = (
    "0\r\n0\r\n0\r\n0\r\n\r\n2.23456e-009\r\n3.1\r\n"
    "AP_IMAGE_PIXEL_SIZE\r\nImage Pixel Size = 2.235 nm\r\n"
    "AP_WD\r\nWD = 8.5 mm\r\n"
)
ZEISS_LABEL_ONLY = "0\r\n0\r\nAP_IMAGE_PIXEL_SIZE\r\nImage Pixel Size = 2.235 nm\r\nAP_WD\r\nWD = 8.5 mm\r\n"
# tifffile.read_fei_metadata: "[Section]" lines open a section, "key=value" lines fill it.
FEI_TEXT = "[User]\r\nDate=03/14/2024\r\nUser=user\r\n[Scan]\r\nPixelWidth=4.5e-009\r\nPixelHeight=4.5e-009\r\n"


def write_tiff(path, **kwargs):
    tifffile.imwrite(path, PIXELS, **kwargs)
    return path


def calibration_of(path):
    with tifffile.TiffFile(path) as tif:
        return calibration_from_tiff(tif)


def test_zeiss_exact_metres_value_wins_over_rounded_label(tmp_path):
    path = write_tiff(tmp_path / "zeiss.tif", extratags=[(CZ_SEM, "s", 0, ZEISS_WITH_EXACT, True)])
    with tifffile.TiffFile(path) as tif:  # the fixture is parsed as SmartSEM writes it
        assert 2.23456e-9 in tif.sem_metadata[""]
        assert tif.sem_metadata["ap_image_pixel_size"] == ("Image Pixel Size", 2.235, "nm")
    calibration = load_image(path).metadata_calibration
    assert calibration.pixel_size_nm == pytest.approx(2.23456, rel=1e-9)
    assert calibration.source == SOURCE_METADATA


def test_zeiss_label_only(tmp_path):
    path = write_tiff(tmp_path / "zeiss_label.tif", extratags=[(CZ_SEM, "s", 0, ZEISS_LABEL_ONLY, True)])
    calibration = calibration_of(path)
    assert calibration.pixel_size_nm == pytest.approx(2.235, rel=1e-9)
    assert calibration.source == SOURCE_METADATA


def test_zeiss_unnamed_value_that_disagrees_with_the_label_is_ignored(tmp_path):
    text = "0\r\n5.0e-009\r\nAP_IMAGE_PIXEL_SIZE\r\nImage Pixel Size = 2.235 nm\r\n"
    path = write_tiff(tmp_path / "zeiss_other.tif", extratags=[(CZ_SEM, "s", 0, text, True)])
    assert calibration_of(path).pixel_size_nm == pytest.approx(2.235, rel=1e-9)


def test_zeiss_label_in_micrometres(tmp_path):
    text = b"0\r\nAP_IMAGE_PIXEL_SIZE\r\nImage Pixel Size = 1.5 \xb5m\r\n"  # SmartSEM writes latin-1 micro
    path = write_tiff(tmp_path / "zeiss_um.tif", extratags=[(CZ_SEM, "s", 0, text, True)])
    assert calibration_of(path).pixel_size_nm == pytest.approx(1500.0, rel=1e-9)


@pytest.mark.parametrize("tag", [FEI_SFEG, FEI_HELIOS], ids=["FEI_SFEG", "FEI_HELIOS"])
def test_fei_pixel_width(tmp_path, tag):
    path = write_tiff(tmp_path / "fei.tif", extratags=[(tag, "s", 0, FEI_TEXT, True)])
    with tifffile.TiffFile(path) as tif:
        assert tif.fei_metadata["Scan"]["PixelWidth"] == 4.5e-9
    calibration = load_image(path).metadata_calibration
    assert calibration.pixel_size_nm == pytest.approx(4.5, rel=1e-9)
    assert calibration.source == SOURCE_METADATA


def test_fei_non_square_pixels_use_the_geometric_mean(tmp_path):
    text = "[Scan]\r\nPixelWidth=4e-009\r\nPixelHeight=9e-009\r\n"
    path = write_tiff(tmp_path / "fei_rect.tif", extratags=[(FEI_HELIOS, "s", 0, text, True)])
    calibration = calibration_of(path)
    assert calibration.pixel_size_nm == pytest.approx(6.0, rel=1e-9)
    assert "non-square" in calibration.detail


def test_resolution_tags_in_centimetres(tmp_path):
    path = write_tiff(tmp_path / "res_cm.tif", resolution=(1e7 / 5, 1e7 / 5), resolutionunit="CENTIMETER")
    calibration = calibration_of(path)
    assert calibration.pixel_size_nm == pytest.approx(5.0, rel=1e-9)
    assert calibration.source == SOURCE_METADATA


def test_resolution_tags_in_inches(tmp_path):
    path = write_tiff(tmp_path / "res_in.tif", resolution=(2.54e7 / 10, 2.54e7 / 10), resolutionunit="INCH")
    assert calibration_of(path).pixel_size_nm == pytest.approx(10.0, rel=1e-6)


def test_72_dpi_print_resolution_is_not_a_calibration(tmp_path):
    path = write_tiff(tmp_path / "dpi.tif", resolution=(72, 72), resolutionunit="INCH")
    assert calibration_of(path) is None
    assert load_image(path).metadata_calibration is None


@pytest.mark.parametrize("dpi", [300, 1200, 4800, 24000])
def test_print_resolutions_are_never_calibrations(tmp_path, dpi):
    path = write_tiff(tmp_path / "print.tif", resolution=(dpi, dpi), resolutionunit="INCH")
    assert calibration_of(path) is None


def test_typed_pixel_size_beats_a_4800_dpi_tag(tmp_path):
    from particle_gui.core.output.batch import analyze_file
    from particle_gui.core.params import PipelineParams

    path = write_tiff(tmp_path / "print.tif", resolution=(4800, 4800), resolutionunit="INCH")
    _, result, _ = analyze_file(path, PipelineParams(), pixel_size_nm=2.5)
    assert (result.calibration.pixel_size_nm, result.calibration.source) == (2.5, "manual")


def test_resolution_without_unit_is_not_a_calibration(tmp_path):
    # tifffile defaults the unit to INCH when only a resolution is given: ask for NONE (1) explicitly.
    path = write_tiff(tmp_path / "nounit.tif", resolution=(1e7 / 5, 1e7 / 5), resolutionunit=1)
    with tifffile.TiffFile(path) as tif:
        assert tif.pages.first.tags["ResolutionUnit"].value == 1
    assert calibration_of(path) is None


def test_plain_tiff_has_no_calibration(tmp_path):
    assert calibration_of(write_tiff(tmp_path / "plain.tif")) is None


def test_imagej_calibration(tmp_path):
    path = tmp_path / "imagej.tif"
    tifffile.imwrite(path, PIXELS, imagej=True, resolution=(1 / 0.0025, 1 / 0.0025), metadata={"unit": "um"})
    calibration = load_image(path).metadata_calibration
    assert calibration.pixel_size_nm == pytest.approx(2.5, rel=1e-9)
    assert calibration.source == SOURCE_METADATA


def test_imagej_escaped_micro_unit(tmp_path):
    path = tmp_path / "imagej_micro.tif"
    tifffile.imwrite(path, PIXELS, imagej=True, resolution=(200.0, 200.0), metadata={"unit": "\\u00B5m"})
    assert calibration_of(path).pixel_size_nm == pytest.approx(5.0, rel=1e-9)


def test_imagej_pixel_unit_is_not_a_calibration(tmp_path):
    path = tmp_path / "imagej_px.tif"
    tifffile.imwrite(path, PIXELS, imagej=True, resolution=(1.0, 1.0), metadata={"unit": "pixel"})
    assert calibration_of(path) is None


def test_zeiss_wins_over_resolution_tags(tmp_path):
    path = write_tiff(
        tmp_path / "both.tif",
        extratags=[(CZ_SEM, "s", 0, ZEISS_LABEL_ONLY, True)],
        resolution=(1e7 / 5, 1e7 / 5),
        resolutionunit="CENTIMETER",
    )
    assert calibration_of(path).pixel_size_nm == pytest.approx(2.235, rel=1e-9)
