"""Rendered scale-bar labels for the label reader, cropped as the app crops them.

A label ("200 nm", "0.5 μm", "1um", "300nm", ...; :func:`synthetic.databars.random_label`; a few
crops hold its unit or its number alone) is drawn in a
random font (:func:`synthetic.fonts.available`, held-out families excluded) at a cap height of
8-40 px, light on dark or dark on light (contrast from a quarter of the range), on a flat or
textured background or among particles, sometimes with the bar's line close above or below,
sometimes squeezed or stretched (narrow and wide faces), then blurred, noised and JPEG-compressed. The crop is the
text's tight ink box plus a quarter of its height on each side, with a pixel or two of jitter,
exactly as :func:`particle_gui.core.io.scalebar.detect_scale_bar` cuts it; it is then prepared as
the reader sees it (:func:`particle_gui.core.io.label_reader.prepare_crop`).
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from particle_gui.core.io.label_reader import prepare_crop, widened
from synthetic import databars, fonts

ALPHABET = "0123456789.,µunmp"
#: Training images are padded (light) or squeezed to this width.
WIDTH = 256
#: Shares of training crops holding only the unit ("µm") or only the number ("300"), read as such
#: (neither is a length, so the app refuses them instead of calibrating on a digit it made up).
UNIT_ALONE_SHARE = 0.06
NUMBER_ALONE_SHARE = 0.03
_FONT_CACHE: dict[tuple[str, int], ImageFont.FreeTypeFont] = {}


def encode(text: str) -> list[int]:
    """Class indices (1-based; 0 is the CTC blank) of a label's characters, spaces dropped."""
    text = text.replace("μ", "µ").replace(" ", "")
    return [ALPHABET.index(c) + 1 for c in text]


def _font(family: str, size: int) -> ImageFont.FreeTypeFont:
    key = (family, size)
    if key not in _FONT_CACHE:
        _FONT_CACHE[key] = ImageFont.truetype(str(fonts.font_path(family)), size)
    return _FONT_CACHE[key]


def render_crop(rng: np.random.Generator, text: str, family: str, cap_px: float) -> np.ndarray:
    """A uint8 crop of ``text`` as the app would cut it from an image."""
    size = max(6, int(round(cap_px / 0.72)))
    font = _font(family, size)
    box = font.getbbox(text)
    tw, th = box[2] - box[0], box[3] - box[1]
    margin = size
    w, h = tw + 2 * margin, th + 2 * margin
    light_text = rng.random() < 0.5
    bg = float(rng.uniform(0, 80)) if light_text else float(rng.uniform(150, 255))
    ink = float(np.clip(bg + (1 if light_text else -1) * rng.uniform(60, 255), 0, 255))
    canvas = np.full((h, w), bg, np.float32)
    if rng.random() < 0.3:  # textured background (a label on the specimen)
        noise = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), rng.uniform(1, 4))
        canvas += noise / (noise.std() + 1e-6) * rng.uniform(5, 25)
    if rng.random() < 0.25:  # particles behind a label burned into the image
        _particles(rng, canvas, size, bg, ink)
    pil = Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(pil)
    draw.text((margin - box[0], margin - box[1]), text, font=font, fill=int(ink))
    if rng.random() < 0.3:  # the bar's line near the text
        thick = max(1, int(size * rng.uniform(0.08, 0.3)))
        y = margin + th + int(size * rng.uniform(0.3, 0.8)) if rng.random() < 0.5 else margin - int(size * rng.uniform(0.3, 0.8))
        draw.rectangle([0, y, w - 1, y + thick - 1], fill=int(ink))
    image = np.asarray(pil).astype(np.float32)
    if rng.random() < 0.3:  # narrow and wide faces
        image = cv2.resize(image, (max(8, int(round(w * rng.uniform(0.75, 1.3)))), h), interpolation=cv2.INTER_AREA)
        scale = image.shape[1] / w
        tw, margin_x = int(round(tw * scale)), int(round(margin * scale))
    else:
        margin_x = margin
    if rng.random() < 0.5:
        image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.3, 0.9) * max(1.0, size / 20))
    image += rng.normal(0, rng.uniform(0, 12), image.shape).astype(np.float32)
    image = np.clip(image, 0, 255).astype(np.uint8)
    if rng.random() < 0.25:
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(40, 95))])
        image = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    # the tight ink box of the text itself, padded as the app pads it; half the time with more of
    # the surroundings left and right (up to one text height: the app reads a burned-in label again
    # in a wider box, and must read the same)
    x0, y0, x1, y1 = margin_x, margin, margin_x + tw, margin + th
    pad = max(2, th // 4)
    jitter = rng.integers(-2, 3, 4)
    if rng.random() < 0.5:
        jitter[2:] += (rng.uniform(0, 1.0, 2) * th).astype(int) * [-1, 1]
    return image[max(0, y0 - pad + jitter[0]) : y1 + pad + jitter[1], max(0, x0 - pad + jitter[2]) : x1 + pad + jitter[3]]


def _particles(rng: np.random.Generator, canvas: np.ndarray, size: int, bg: float, ink: float) -> None:
    """A few round particles up to the text's size, at most half-way from the background to the ink."""
    h, w = canvas.shape
    for _ in range(int(rng.integers(2, 9))):
        radius = float(size * rng.uniform(0.15, 1.0))
        cy, cx = float(rng.uniform(-radius, h + radius)), float(rng.uniform(-radius, w + radius))
        level = bg + float(rng.uniform(0.1, 0.5)) * (ink - bg)
        cv2.circle(canvas, (int(cx), int(cy)), max(1, int(radius)), level, -1, lineType=cv2.LINE_AA)


def to_input(crop: np.ndarray) -> tuple[np.ndarray, int]:
    """(32, WIDTH) float32: the prepared crop (squeezed to WIDTH if wider), padded on the right by
    repeating its last column; and its own width, so that the loss never sees the padding (else the
    network learns to write the unit's last letter where the padding ends)."""
    x = prepare_crop(widened(crop))  # exactly as the app reads it
    if x.shape[1] > WIDTH:
        x = cv2.resize(x, (WIDTH, x.shape[0]), interpolation=cv2.INTER_AREA)
    width = x.shape[1]
    return np.pad(x, ((0, 0), (0, WIDTH - width)), mode="edge"), width


def sample(rng: np.random.Generator, families: list[str]) -> tuple[np.ndarray, list[int], str, int]:
    text, _ = databars.random_label(rng)
    part = rng.random()
    if part < UNIT_ALONE_SHARE:  # a unit a wide space from its number: the reader must not invent one
        text = text.lstrip("0123456789., ")
    elif part < UNIT_ALONE_SHARE + NUMBER_ALONE_SHARE:  # a number whose unit was cut off
        text = text.rstrip("µμunmp ")
    if rng.random() < 0.15:  # numbers as instruments print them too: "1.00 µm", "0,5 µm"
        text = text.replace(".", ",") if rng.random() < 0.5 else text
    family = families[int(rng.integers(len(families)))]
    cap = float(np.exp(rng.uniform(np.log(8), np.log(40))))
    image, width = to_input(render_crop(rng, text, family, cap))
    return image, encode(text), text, width


def batches(seed: int, batch_size: int, families: list[str]):
    """Endless (images (B, 32, WIDTH, 1), labels (B, 12) zero-padded, label lengths (B,), output
    lengths (B,): the columns of each image's own width, a quarter of it)."""
    rng = np.random.default_rng(seed)
    while True:
        items = [sample(rng, families) for _ in range(batch_size)]
        x = np.stack([i[0] for i in items])[..., None]
        y = np.zeros((batch_size, 12), np.int32)
        lengths = np.zeros(batch_size, np.int32)
        for k, (_, code, _, _) in enumerate(items):
            y[k, : len(code)] = code
            lengths[k] = len(code)
        yield x, y, lengths, np.array([i[3] // 4 for i in items], np.int32)
