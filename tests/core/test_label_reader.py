"""The shipped scale-bar label reader on labels it never saw: generated instrument layouts in a
training font and in a held-out one, the real Zeiss and FEI/Thermo files, and a missing model."""

from __future__ import annotations

import itertools

import zlib

import numpy as np
import pytest

from particle_gui.core.io import label_reader
from particle_gui.core.io.databar import detect_data_bar
from particle_gui.core.io.label_reader import LabelReader, LabelReaderError
from particle_gui.core.io.loading import load_image
from particle_gui.core.params import PipelineParams
from particle_gui.core.analysis.pipeline import Pipeline
from particle_gui.core.io.scalebar import detect_scale_bar
from synthetic import databars
from synthetic.scenes import random_scene
from tests.shared_data import EMPS, VENDOR_SEM, require

#: Both ship with matplotlib, so they exist wherever the tests run; STIX is never trained on.
FAMILIES = {"training": "DejaVu Sans", "held_out": "STIX"}
LAYOUTS = ("zeiss", "fei", "jeol", "hitachi", "tescan", "top")
#: On the 261 EMPS labels a person read, 2026-12-03: 173 read right and 2 wrong with confidence (a
#: margin for other CPUs' rounding of borderline confidences).
REAL_MIN_RIGHT, REAL_MAX_WRONG = 180, 2


def test_the_shipped_reader_is_small_and_loads():
    assert label_reader.MODEL_PATH.is_file()
    assert label_reader.MODEL_PATH.stat().st_size < 20e6
    reader = LabelReader()
    assert set("0123456789.nmu") <= set(reader.alphabet)


@pytest.mark.parametrize("font", sorted(FAMILIES))
def test_labels_of_generated_layouts_are_read_and_calibrate(font):
    family = FAMILIES[font]
    read = []
    for i in range(24):
        vendor = LAYOUTS[i % len(LAYOUTS)]
        rng = np.random.default_rng(zlib.crc32(f"label {font} {i}".encode()))
        specimen, _ = random_scene(rng, (384, 512), median_px=float(rng.uniform(10, 40)))
        image, truth = databars.draw(rng, vendor, specimen, family=family)
        scale = detect_scale_bar(image, detect_data_bar(image))
        ok = (scale is not None and scale.confident and scale.length_nm == pytest.approx(truth.label_nm)
              and abs(scale.x_start - truth.bar[0]) <= 2 and abs(scale.x_end - truth.bar[1]) <= 2)
        read.append(ok)
    # bench_calibration measures the rate on 300 images; here 24 (17 and 19 right when written).
    assert sum(read) >= 15, read  # a broken reader or crop finder reads few or none


def test_a_blank_strip_reads_as_nothing_confident():
    crop = np.full((32, 120), 240, np.uint8)
    text, confidence = label_reader.read_label(crop)
    assert text == "" or confidence < 0.5


@pytest.mark.parametrize(("name", "label"), [("test_tiff_Zeiss_SEM_1k.tif", "200µm"),
                                             ("FEI-Helios-Ebeam-8bits.tif", "500µm")])
def test_real_vendor_bars_give_the_metadata_pixel_size(name, label):
    image = load_image(require(VENDOR_SEM) / name)
    scale = Pipeline(image).region(PipelineParams()).scale_bar
    assert scale is not None and scale.confident and scale.in_data_bar, scale
    assert scale.label.replace(" ", "") == label
    assert all(scale.end_marks)  # Zeiss ticks, FEI round caps: the length runs between their centres
    assert scale.pixel_size_nm == pytest.approx(image.metadata_calibration.pixel_size_nm, rel=0.01)


def test_a_resized_file_with_stale_metadata_is_read_from_its_bar():
    # The 512-px Zeiss file keeps the 1024-px acquisition's pixel size (5.82 nm) in its metadata;
    # its bar, 17 px between tick centres for 200 nm, says 11.8 nm/px (the image was halved).
    image = load_image(require(VENDOR_SEM) / "test_tiff_Zeiss_SEM_512pix.tif")
    scale = Pipeline(image).region(PipelineParams()).scale_bar
    assert scale.label.replace(" ", "") == "200nm" and scale.confident
    assert scale.length_px == 17
    assert scale.pixel_size_nm / image.metadata_calibration.pixel_size_nm == pytest.approx(2.0, rel=0.03)


def test_a_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(LabelReaderError, match="cannot be loaded"):
        LabelReader(tmp_path / "label_reader.onnx")


def test_a_damaged_model_is_a_clear_error(tmp_path):
    path = tmp_path / "label_reader.onnx"
    path.write_bytes(b"not a model")
    path.with_suffix(".json").write_text('{"alphabet": "0123"}')
    with pytest.raises(LabelReaderError, match="damaged|cannot be loaded"):
        LabelReader(path)


def _strip_image(draw_strip, *, width: int = 640, strip_rows: int = 40, seed: int = 5) -> np.ndarray:
    """A specimen with a light data bar below it, drawn by ``draw_strip(ImageDraw, width, rows)``."""
    from PIL import Image, ImageDraw

    specimen, _ = random_scene(np.random.default_rng(seed), (400, width), median_px=20.0)
    strip = Image.new("L", (width, strip_rows), 245)
    draw_strip(ImageDraw.Draw(strip), width, strip_rows)
    return np.vstack([specimen, np.asarray(strip, np.float32) / 255.0])


def test_a_label_touching_its_bar_keeps_its_unit():
    """Hitachi-like: "20nm" sits on the right end of a ticked bar; the bar goes, the unit stays."""
    read = []
    for family, size, text in itertools.product(("DejaVu Serif", "DejaVu Sans"), (12, 13, 14), ("20nm", "50nm")):
        font = databars._font(family, size)

        def strip(draw, width, rows):
            draw.rectangle([400, 27, 560, 28], fill=10)  # the bar, 160 px, its ticks below it
            for x in range(400, 561, 16):
                draw.rectangle([x, 27, x + 1, 33], fill=10)
            box = draw.textbbox((0, 0), text, font=font, anchor="ls")
            draw.text((560 - box[2], 27), text, font=font, fill=10, anchor="ls")  # its baseline on the bar
            draw.text((10, 20), "S-4800 5.0kV 8.0mm x50.0k SE(U)", font=font, fill=10, anchor="lm")

        image = _strip_image(strip)
        scale = detect_scale_bar(image, detect_data_bar(image))
        assert scale is not None and scale.length_px == pytest.approx(160, abs=2)
        read.append(scale.label == text and scale.confident)
    # The reader of 2026-12-02 read all 12; the one trained with wider margins reads "nm" in 12 px
    # serif type as "mm" (500 mm is no micrograph's bar: the label stays unread and the user is asked).
    assert sum(read) >= 10, read


def test_a_monospaced_number_one_space_from_its_unit_is_read_with_it():
    """JEOL-like "x5,000  500 nm |--|" in FreeMono: the space before "nm" is wider than 1.2 heights of
    its small letters, and the bar's end ticks reach above and below it (taller than 16 px): the
    unit with a tick read "1nm", and "500 nm" was never tried."""
    font = databars._font("FreeMono", 20)

    def strip(draw, width, rows):
        text_end = draw.textbbox((10, 20), "SEI 15kV WD10mm x5,000  500 nm", font=font, anchor="lm")[2]
        draw.text((10, 20), "SEI 15kV WD10mm x5,000  500 nm", font=font, fill=10, anchor="lm")
        x0 = text_end + 12
        draw.rectangle([x0, 20, x0 + 84, 21], fill=10)
        for x in (x0, x0 + 83):
            draw.rectangle([x, 11, x + 1, 28], fill=10)

    image = _strip_image(strip, strip_rows=40)
    scale = detect_scale_bar(image, detect_data_bar(image))
    assert scale is not None and scale.confident and scale.length_nm == pytest.approx(500.0)
    assert scale.length_px == pytest.approx(83, abs=2)


def test_monospaced_labels_beside_other_fields_are_read_whole():
    """JEOL, top and Tescan bars in a monospaced font: "x5,000  500.00 nm |--|" is neither "nm" alone
    (read "1nm") nor the magnification run into the label."""
    read = []
    for i in range(18):
        rng = np.random.default_rng(zlib.crc32(f"mono {i}".encode()))
        specimen, _ = random_scene(rng, (384, 512), median_px=float(rng.uniform(10, 40)))
        image, truth = databars.draw(rng, ("jeol", "top", "tescan")[i % 3], specimen, family="DejaVu Sans Mono")
        scale = detect_scale_bar(image, detect_data_bar(image))
        read.append(scale is not None and scale.confident and scale.length_nm == pytest.approx(truth.label_nm))
    # 12 of 18 when written; 9 before labels were read with a margin and split at the fields' gaps;
    # 14 since the number one wider space from its unit is tried and a bar's tall end ticks go with it.
    assert sum(read) >= 13, read


def test_crops_are_read_with_a_margin():
    crop = np.tile(np.arange(10, dtype=np.uint8)[None, :], (8, 1))
    wide = label_reader.widened(crop)
    assert wide.shape == (8, 14)  # a quarter of the height on each side
    assert (wide[:, :2] == 0).all() and (wide[:, -2:] == 9).all()


def _burned_in(text: str, family: str, *, background: float, ink: int, box: int | None, size: int = 30,
               seed: int = 3) -> tuple[np.ndarray, tuple[int, int]]:
    """A light TEM-like specimen (dark discs on grey) with a bar and label burned into its lower right."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    height, width = 600, 800
    grey = rng.normal(background, 8, (height, width))
    yy, xx = np.mgrid[:height, :width]
    for cy, cx, r in ((520, 600, 45), (470, 720, 30), (545, 700, 25), (300, 300, 60)):  # some behind the label
        grey[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = 60
    pil = Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(pil)
    x0, x1, y = 580, 740, 560
    if box is not None:
        draw.rectangle([x0 - 8, y - 2 * size - 8, x1 + 8, y + 12], fill=box)
    draw.text(((x0 + x1) / 2, y - 8), text, font=databars._font(family, size), fill=ink, anchor="mb")
    draw.rectangle([x0, y, x1 - 1, y + 5], fill=ink)
    return np.asarray(pil, np.float32) / 255.0, (x0, x1)


@pytest.mark.parametrize("text, family, background, ink, box, size", [
    ("200 nm", "DejaVu Sans Bold", 185.0, 255, None, 22),  # white on a light specimen, dark particles behind
    ("1 µm", "DejaVu Serif", 185.0, 255, None, 22),
    ("200 nm", "DejaVu Serif", 120.0, 0, 255, 14),  # thin dark type in a white box: its strokes never reach 20
])
def test_labels_burned_into_the_image_are_read(text, family, background, ink, box, size):
    """Each of these was found as a bar with its label unread before: the ink was the grey levels above
    235 or below 20 over the whole image, and the reader saw the dark particles as well as the text."""
    image, (x0, x1) = _burned_in(text, family, background=background, ink=ink, box=box, size=size)
    scale = detect_scale_bar(image, detect_data_bar(image))
    assert scale is not None and (scale.x_start, scale.x_end) == (x0, x1)
    assert scale.confident and scale.length_nm == pytest.approx(1000.0 if "µm" in text else 200.0)


def test_no_bar_is_read_on_emps_images_without_one():
    """The EMPS images listed as bar-free (benchmarks/emps_no_scale_bar.txt) give no confident bar; a
    3-px-high run of a rod's edge pieces read "2µm" on f32c7bd62b once labels were read in the ink
    around a bar (no label is under 5 px high now)."""
    from pathlib import Path

    folder = require(EMPS) / "images"
    listed = Path(__file__).resolve().parents[2] / "benchmarks" / "emps_no_scale_bar.txt"
    names = [n.strip() for n in listed.read_text().splitlines() if n.strip() and not n.startswith("#")]
    assert len(names) >= 50
    false = []
    for name in names:
        grey = load_image(folder / f"{name}.png").grey
        scale = detect_scale_bar(grey, detect_data_bar(grey))
        if scale is not None and scale.confident:
            false.append((name, scale.label))
    assert false == []


def test_real_burned_in_labels_are_read_right_or_asked():
    """261 EMPS images whose burned-in label a person read (benchmarks/emps_scale_labels.csv): the app
    calibrates wrongly without asking on at most REAL_MAX_WRONG of them (2026-12-03: 10 with the
    reader trained on 1-2-5 labels only, which read "300 nm" as 200 or 500 nm, "4 µm" as "2um")."""
    from benchmarks import real_labels

    result = real_labels.score(require(EMPS) / "images")
    assert result["images"] == 261
    assert result["wrong"] <= REAL_MAX_WRONG, result["wrong_readings"]
    assert result["right"] >= REAL_MIN_RIGHT
