"""Known-answer tests for particle_gui.core.io.loading on real files written in tmp_path."""

import hashlib
import struct
import zlib

import numpy as np
import pytest
import tifffile
from PIL import Image, ImageFile

from particle_gui.core.errors import ImageLoadError, ImageTooLargeError
from particle_gui.core.io.loading import load_image, to_normalised_grey

LUMA = np.array([0.299, 0.587, 0.114])


def ramp_u8(shape=(24, 32)) -> np.ndarray:
    return (np.arange(shape[0] * shape[1]) % 256).astype(np.uint8).reshape(shape)


def assert_grey_contract(loaded, shape):
    assert loaded.grey.dtype == np.float32
    assert loaded.grey.shape == shape == loaded.shape
    assert np.isfinite(loaded.grey).all()
    assert loaded.grey.min() >= 0.0 and loaded.grey.max() <= 1.0


# ---------------------------------------------------------------- formats and normalisation


def test_8bit_tiff_is_divided_by_255_exactly(tmp_path):
    data = ramp_u8()
    path = tmp_path / "grey8.tif"
    tifffile.imwrite(path, data)
    loaded = load_image(path)
    assert_grey_contract(loaded, data.shape)
    np.testing.assert_array_equal(loaded.grey, data.astype(np.float32) / np.float32(255))
    assert (loaded.intensity_offset, loaded.intensity_scale) == (0.0, 255.0)
    np.testing.assert_array_equal(loaded.original, data)
    assert loaded.warnings == ()
    assert loaded.metadata_calibration is None


def test_16bit_tiff_is_min_max_normalised(tmp_path):
    data = (1000 + 16 * np.arange(20 * 25)).astype(np.uint16).reshape(20, 25)
    path = tmp_path / "grey16.tif"
    tifffile.imwrite(path, data)
    loaded = load_image(path)
    assert_grey_contract(loaded, data.shape)
    assert loaded.grey.min() == 0.0 and loaded.grey.max() == 1.0
    np.testing.assert_allclose(loaded.grey, (data - 1000.0) / (data.max() - 1000.0), atol=1e-6)
    assert loaded.intensity_offset == 1000.0
    assert loaded.intensity_scale == float(data.max() - 1000)
    restored = loaded.grey * loaded.intensity_scale + loaded.intensity_offset
    np.testing.assert_allclose(restored, data, atol=0.01)


def test_32bit_int_tiff_with_negative_values(tmp_path):
    data = np.linspace(-70000, 130000, 16 * 16).round().astype(np.int32).reshape(16, 16)
    path = tmp_path / "int32.tif"
    tifffile.imwrite(path, data)
    loaded = load_image(path)
    assert_grey_contract(loaded, data.shape)
    assert (loaded.intensity_offset, loaded.intensity_scale) == (-70000.0, 200000.0)
    np.testing.assert_allclose(loaded.grey, (data + 70000.0) / 200000.0, atol=1e-6)


def test_float32_tiff_with_nan_warns_and_is_finite(tmp_path):
    data = np.linspace(-1.0, 3.0, 12 * 10, dtype=np.float32).reshape(12, 10)
    data[3, 4] = np.nan
    data[5, 6] = np.inf
    path = tmp_path / "float.tif"
    tifffile.imwrite(path, data)
    loaded = load_image(path)
    assert_grey_contract(loaded, data.shape)
    assert any("NaN" in w for w in loaded.warnings)
    assert loaded.grey[3, 4] == 0.0 and loaded.grey[5, 6] == 0.0  # set to the image minimum
    assert loaded.grey[-1, -1] == 1.0
    assert loaded.intensity_offset == pytest.approx(-1.0)
    assert loaded.intensity_scale == pytest.approx(4.0)


def test_all_nan_image_is_image_load_error(tmp_path):
    path = tmp_path / "allnan.tif"
    tifffile.imwrite(path, np.full((8, 8), np.nan, np.float32))
    with pytest.raises(ImageLoadError):
        load_image(path)


def test_all_nan_error_names_the_file(tmp_path):
    path = tmp_path / "allnan_named.tif"
    tifffile.imwrite(path, np.full((8, 8), np.nan, np.float32))
    with pytest.raises(ImageLoadError, match="allnan_named.tif"):
        load_image(path)


def test_constant_16bit_image_warns_and_is_zero(tmp_path):
    path = tmp_path / "flat16.tif"
    tifffile.imwrite(path, np.full((10, 10), 777, np.uint16))
    loaded = load_image(path)
    assert not loaded.grey.any()
    assert loaded.intensity_offset == 777.0
    assert any("constant" in w for w in loaded.warnings)


def test_miniswhite_tiff_is_inverted(tmp_path):
    data = ramp_u8((8, 12))
    path = tmp_path / "white.tif"
    tifffile.imwrite(path, data, photometric="miniswhite")
    loaded = load_image(path)
    np.testing.assert_array_equal(loaded.original, 255 - data)
    np.testing.assert_allclose(loaded.grey, (255 - data) / 255.0, atol=1e-7)


def test_rgb_png_is_luma_over_255(tmp_path):
    data = np.zeros((10, 12, 3), np.uint8)
    data[:, :4] = (255, 0, 0)
    data[:, 4:8] = (0, 255, 0)
    data[:, 8:] = (40, 80, 200)
    path = tmp_path / "rgb.png"
    Image.fromarray(data).save(path)
    loaded = load_image(path)
    assert_grey_contract(loaded, (10, 12))
    assert loaded.original.shape == (10, 12, 3)
    np.testing.assert_allclose(loaded.grey, data @ LUMA / 255.0, atol=1e-6)
    assert loaded.warnings == ()


def test_rgba_png_with_constant_alpha_has_no_warning(tmp_path):
    data = np.full((8, 8, 4), 200, np.uint8)
    data[..., 3] = 255
    path = tmp_path / "rgba_const.png"
    Image.fromarray(data).save(path)
    loaded = load_image(path)
    assert loaded.warnings == ()
    np.testing.assert_allclose(loaded.grey, 200 / 255.0, atol=1e-6)


def test_rgba_png_with_varying_alpha_warns(tmp_path):
    data = np.full((8, 8, 4), 100, np.uint8)
    data[..., 3] = np.arange(8, dtype=np.uint8)[None, :] * 30
    path = tmp_path / "rgba.png"
    Image.fromarray(data).save(path)
    loaded = load_image(path)
    assert any("alpha" in w for w in loaded.warnings)
    np.testing.assert_allclose(loaded.grey, 100 / 255.0, atol=1e-6)  # alpha ignored, not blended


def test_palette_png_is_expanded_through_its_palette(tmp_path):
    index = np.arange(256, dtype=np.uint8).reshape(16, 16)
    image = Image.fromarray(index).convert("P")
    image.putpalette([v for i in range(256) for v in (i, 0, 0)])  # index i -> red i
    path = tmp_path / "palette.png"
    image.save(path)
    loaded = load_image(path)
    assert loaded.original.shape == (16, 16, 3)
    np.testing.assert_allclose(loaded.grey, 0.299 * index / 255.0, atol=1e-6)


def test_palette_tiff_is_expanded_through_its_colormap(tmp_path):
    index = np.arange(256, dtype=np.uint8).reshape(16, 16)
    colormap = np.zeros((3, 256), np.uint16)
    colormap[0] = np.arange(256) * 257  # red ramp in 16-bit colormap units
    path = tmp_path / "palette.tif"
    tifffile.imwrite(path, index, photometric="palette", colormap=colormap)
    loaded = load_image(path)
    assert loaded.original.shape == (16, 16, 3)
    np.testing.assert_array_equal(loaded.original[..., 0], index)
    assert not loaded.original[..., 1:].any()
    np.testing.assert_allclose(loaded.grey, 0.299 * index / 255.0, atol=1e-6)


def test_multipage_tiff_uses_first_page_and_warns(tmp_path):
    path = tmp_path / "stack.tif"
    with tifffile.TiffWriter(path) as writer:
        for value in (10, 200, 90):
            writer.write(np.full((16, 20), value, np.uint8))
    loaded = load_image(path)
    assert loaded.grey.shape == (16, 20)
    np.testing.assert_array_equal(loaded.grey, np.float32(10) / np.float32(255))
    assert any("3 pages" in w for w in loaded.warnings)


def test_rgb_tiff_chunky(tmp_path):
    data = np.zeros((6, 9, 3), np.uint8)
    data[..., 1] = 255
    path = tmp_path / "rgb.tif"
    tifffile.imwrite(path, data, photometric="rgb")
    np.testing.assert_allclose(load_image(path).grey, 0.587, atol=1e-6)


def test_rgb_tiff_planar(tmp_path):
    data = np.zeros((3, 6, 9), np.uint8)
    data[1] = 255
    path = tmp_path / "planar.tif"
    tifffile.imwrite(path, data, photometric="rgb", planarconfig="separate")
    loaded = load_image(path)
    assert loaded.grey.shape == (6, 9)
    np.testing.assert_allclose(loaded.grey, 0.587, atol=1e-6)


def test_jpeg(tmp_path):
    yy, xx = np.mgrid[:32, :48]
    data = (xx * 4 + yy).astype(np.uint8)
    path = tmp_path / "smooth.jpg"
    Image.fromarray(data).save(path, quality=95)
    loaded = load_image(path)
    assert_grey_contract(loaded, (32, 48))
    assert np.abs(loaded.grey - data / 255.0).max() < 0.03


def test_bmp_is_lossless(tmp_path):
    data = ramp_u8((10, 14))
    path = tmp_path / "grey.bmp"
    Image.fromarray(data).save(path)
    loaded = load_image(path)
    np.testing.assert_array_equal(loaded.grey, data.astype(np.float32) / np.float32(255))


def test_16bit_png_is_min_max_normalised(tmp_path):
    data = (np.arange(64, dtype=np.uint16).reshape(8, 8) * 500 + 100).astype(np.uint16)
    path = tmp_path / "grey16.png"
    Image.fromarray(data).save(path)
    loaded = load_image(path)
    np.testing.assert_allclose(loaded.grey, (data - 100.0) / (63 * 500.0), atol=1e-6)


def test_sha256_is_the_file_hash(tmp_path):
    path = tmp_path / "grey8.tif"
    tifffile.imwrite(path, ramp_u8())
    assert load_image(path).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_to_normalised_grey_bool():
    grey, offset, scale = to_normalised_grey(np.eye(3, dtype=bool), [])
    np.testing.assert_array_equal(grey, np.eye(3, dtype=np.float32))
    assert (offset, scale) == (0.0, 1.0)


# ---------------------------------------------------------------- failures name the file


def _truncated(tmp_path, name, writer, keep_fraction=0.5):
    whole = tmp_path / ("whole_" + name)
    writer(whole)
    raw = whole.read_bytes()
    path = tmp_path / name
    path.write_bytes(raw[: int(len(raw) * keep_fraction)])
    return path


def test_missing_file(tmp_path):
    with pytest.raises(ImageLoadError, match="nothere.tif"):
        load_image(tmp_path / "nothere.tif")


def test_directory_is_not_a_file(tmp_path):
    folder = tmp_path / "folder.tif"
    folder.mkdir()
    with pytest.raises(ImageLoadError, match="folder.tif"):
        load_image(folder)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    with pytest.raises(ImageLoadError, match="empty.png"):
        load_image(path)


def test_truncated_png(tmp_path):
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (64, 64), dtype=np.uint8)  # incompressible: the cut lands in pixel data
    path = _truncated(tmp_path, "cut.png", lambda p: Image.fromarray(noise).save(p))
    with pytest.raises(ImageLoadError, match="cut.png"):
        load_image(path)


@pytest.mark.parametrize("keep_fraction", [0.5, 0.98, 0.01])
def test_truncated_tiff(tmp_path, keep_fraction):
    path = _truncated(tmp_path, "cut.tif", lambda p: tifffile.imwrite(p, ramp_u8((64, 64))), keep_fraction)
    with pytest.raises(ImageLoadError, match="cut.tif"):
        load_image(path)


def test_text_file_named_tif(tmp_path):
    path = tmp_path / "notes.tif"
    path.write_text("these are my notes, not an image\n" * 5)
    with pytest.raises(ImageLoadError, match="notes.tif"):
        load_image(path)


@pytest.mark.parametrize("suffix", [".tif", ".png"])
def test_one_pixel_image_is_refused(tmp_path, suffix):
    path = tmp_path / f"dot{suffix}"
    if suffix == ".tif":
        tifffile.imwrite(path, np.zeros((1, 1), np.uint8))
    else:
        Image.fromarray(np.zeros((1, 1), np.uint8)).save(path)
    with pytest.raises(ImageLoadError, match=f"dot{suffix}") as info:
        load_image(path)
    assert not isinstance(info.value, ImageTooLargeError)


def test_too_large_tiff_is_refused_before_decoding(tmp_path, monkeypatch):
    path = tmp_path / "big.tif"
    tifffile.imwrite(path, np.zeros((3000, 3000), np.uint8), compression="zlib")

    def no_decoding(*args, **kwargs):
        raise AssertionError("pixel data were decoded before the size check")

    monkeypatch.setattr(tifffile.TiffPage, "asarray", no_decoding)
    with pytest.raises(ImageTooLargeError, match="big.tif"):
        load_image(path, max_pixels=1_000_000)


def test_too_large_png_is_refused_before_decoding(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    Image.fromarray(np.zeros((1200, 1000), np.uint8)).save(path)

    def no_decoding(*args, **kwargs):
        raise AssertionError("pixel data were decoded before the size check")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with pytest.raises(ImageTooLargeError, match="big.png"):
        load_image(path, max_pixels=1_000_000)


def _png_header_only(path, width, height):
    """A PNG whose header claims ``width`` x ``height`` grey pixels, with almost no data."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )
    return path


def test_huge_png_is_too_large_not_a_decompression_bomb(tmp_path, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 89_478_485)  # Pillow's default, whatever ran before
    path = _png_header_only(tmp_path / "huge.png", 20_000, 20_000)  # 400 Mpx claimed
    with pytest.raises(ImageTooLargeError, match="huge.png"):
        load_image(path)


def test_image_at_the_size_limit_loads(tmp_path):
    path = tmp_path / "limit.tif"
    tifffile.imwrite(path, np.zeros((100, 100), np.uint8))
    assert load_image(path, max_pixels=10_000).shape == (100, 100)
    with pytest.raises(ImageTooLargeError):
        load_image(path, max_pixels=9_999)
