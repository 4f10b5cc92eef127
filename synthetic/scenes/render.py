"""Image formation for synthetic scenes: SEM secondary electrons, TEM bright field, HAADF-STEM.

:func:`compose` rasterises the particles into a height buffer: the topmost surface at each
pixel owns it, which gives the exact instance truth (a pixel is a particle's when at least
half of it is covered and that particle is on top). The imaging functions then turn heights
and thicknesses into grey levels the way each instrument does, to first order:

- ``sem``: secondary-electron yield rising with surface tilt (bright edges), a directional
  detector term (one side lit), darker crevices between touching particles, surface roughness,
  a substrate darker or brighter than the particles;
- ``tem``: transmission ``exp(-mu * thickness)`` summed over overlapping particles, a random
  diffraction contrast per particle, a Fresnel fringe, an amorphous film;
- ``haadf``: signal proportional to thickness on a support of uneven thickness and texture.

:func:`degrade` adds what every real image has: uneven illumination, blur, shot and read
noise, scan-line jitter, JPEG compression, 8-bit quantisation, and burned-in labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from synthetic.scenes.outlines import Particle, rasterise


@dataclass
class Composite:
    """Rasterised scene: owner labels (0 = none), top surface height, summed thickness (px)."""

    labels: np.ndarray  # int32
    height: np.ndarray  # float32, top surface
    thickness: np.ndarray  # float32, sum over particles of (2 * height * coverage * weight)
    cover: np.ndarray  # float32, anti-aliased union coverage
    brightness: np.ndarray  # float32, per-pixel material factor of the owner (1 on the substrate)


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """Gaussian-correlated noise with unit standard deviation (cheap for large sigma)."""
    sigma = max(float(sigma), 0.3)
    if sigma > 4:
        factor = sigma / 2.0
        small = (max(2, int(shape[0] / factor) + 2), max(2, int(shape[1] / factor) + 2))
        noise = cv2.GaussianBlur(rng.normal(size=small).astype(np.float32), (0, 0), 2.0)
        noise = cv2.resize(noise, (int(small[1] * factor), int(small[0] * factor)), interpolation=cv2.INTER_CUBIC)
        noise = noise[: shape[0], : shape[1]]
        if noise.shape != shape:
            noise = cv2.resize(noise, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    else:
        noise = cv2.GaussianBlur(rng.normal(size=shape).astype(np.float32), (0, 0), sigma)
    return (noise - noise.mean()) / (noise.std() + 1e-9)


def compose(particles: list[Particle], shape_hw: tuple[int, int], rng: np.random.Generator,
            *, brightness_spread: float = 0.1, weight_spread: float = 0.0) -> Composite:
    """Rasterise ``particles`` (see the module text); each gets a random material factor."""
    h, w = shape_hw
    labels = np.zeros((h, w), np.int32)
    height = np.zeros((h, w), np.float32)
    thickness = np.zeros((h, w), np.float32)
    cover_all = np.zeros((h, w), np.float32)
    bright = np.ones((h, w), np.float32)
    for index, particle in enumerate(particles, start=1):
        (top, left), cover, hgt = rasterise(particle)
        y0, x0 = max(top, 0), max(left, 0)
        y1, x1 = min(top + cover.shape[0], h), min(left + cover.shape[1], w)
        if y0 >= y1 or x0 >= x1:
            continue
        sl = np.s_[y0:y1, x0:x1]
        pc = cover[y0 - top : y1 - top, x0 - left : x1 - left]
        ph = hgt[y0 - top : y1 - top, x0 - left : x1 - left]
        factor = float(np.exp(rng.normal(0, brightness_spread)))
        weight = float(np.exp(rng.normal(0, weight_spread))) if weight_spread else 1.0
        thickness[sl] += 2.0 * ph * pc * weight
        cover_all[sl] = np.maximum(cover_all[sl], pc)
        on_top = (pc >= 0.5) & (ph + 1e-3 > height[sl])
        labels[sl][on_top] = index
        height[sl][on_top] = ph[on_top] + 1e-3
        bright[sl][on_top] = factor
    return Composite(labels, height, thickness, cover_all, bright)


def _typical_radius(particles: list[Particle]) -> float:
    return float(np.median([p.radius for p in particles])) if particles else 10.0


def sem(comp: Composite, particles: list[Particle], rng: np.random.Generator) -> np.ndarray:
    """Secondary-electron image (float32, not normalised)."""
    r = _typical_radius(particles)
    shape = comp.height.shape
    particle = comp.labels > 0
    rough = rng.uniform(0.0, 0.08) * r * smooth_noise(rng, shape, rng.uniform(0.6, 0.15 * r + 0.7))
    surface = comp.height + np.where(comp.height > 0, rough, 0).astype(np.float32)
    surface = cv2.GaussianBlur(surface, (0, 0), 0.7)
    gy, gx = np.gradient(surface)
    slope = np.sqrt(1.0 + gx * gx + gy * gy)
    phi = rng.uniform(0, 2 * np.pi)
    directional = (gx * np.cos(phi) + gy * np.sin(phi)) / slope
    tilt = np.minimum(slope, rng.uniform(2.5, 6.0)) - 1.0
    crevice = np.clip(cv2.GaussianBlur(comp.height, (0, 0), max(0.6 * r, 1.0)) - comp.height, 0, None) / max(r, 1.0)
    level = rng.uniform(0.45, 0.8)
    edge_gain = rng.uniform(0.1, 0.35)
    lit = rng.uniform(0.0, 0.25)
    signal = level * comp.brightness * (1.0 + edge_gain * tilt - lit * directional)
    substrate = rng.uniform(0.02, 0.35) if rng.random() < 0.85 else rng.uniform(0.5, 0.9)
    substrate_img = substrate * (1.0 + rng.uniform(0.0, 0.3) * smooth_noise(rng, shape, rng.uniform(1.0, 6.0)))
    image = np.where(particle, signal, substrate_img)
    image = image * np.exp(-rng.uniform(0.5, 3.0) * crevice)
    # soft edge: blend by coverage so outlines are anti-aliased
    edge = (comp.cover > 0) & (comp.cover < 1) & ~particle
    image[edge] = comp.cover[edge] * level + (1 - comp.cover[edge]) * image[edge]
    return image.astype(np.float32)


def tem(comp: Composite, particles: list[Particle], rng: np.random.Generator) -> np.ndarray:
    """Bright-field transmission image (float32)."""
    r = _typical_radius(particles)
    shape = comp.height.shape
    mu = rng.uniform(0.3, 2.5) / max(2 * r, 1.0)
    diffraction = np.where(comp.labels > 0, comp.brightness, 1.0).astype(np.float32)
    texture = 1.0 + np.where(comp.labels > 0, rng.uniform(0, 0.15) * smooth_noise(rng, shape, rng.uniform(0.6, 2.5)), 0)
    film = rng.uniform(0.55, 0.95) * (1.0 + rng.uniform(0.01, 0.08) * smooth_noise(rng, shape, rng.uniform(0.6, 2.0)))
    image = film * np.exp(-mu * comp.thickness * diffraction * texture)
    if rng.random() < 0.5:  # Fresnel fringe (defocus): a thin bright halo outside each particle
        blurred = cv2.GaussianBlur(comp.cover, (0, 0), rng.uniform(0.7, 1.5))
        image = image + rng.uniform(0.02, 0.12) * (blurred - comp.cover) * (comp.cover < 0.5)
    return image.astype(np.float32)


def haadf(comp: Composite, particles: list[Particle], rng: np.random.Generator, *, support: bool = True) -> np.ndarray:
    """HAADF-STEM image (float32): particles bright on a support of uneven thickness."""
    r = _typical_radius(particles)
    shape = comp.height.shape
    z = rng.uniform(0.3, 1.0) / max(2 * r, 1.0)
    signal = z * comp.thickness * np.where(comp.labels > 0, comp.brightness, 1.0)
    if support:
        base = rng.uniform(0.2, 0.6) + rng.uniform(0.05, 0.25) * smooth_noise(rng, shape, rng.uniform(8, 60))
        grain = rng.uniform(0.03, 0.15) * smooth_noise(rng, shape, rng.uniform(0.7, 3.0))
        background = np.clip(base + grain, 0.0, None)
    else:
        background = rng.uniform(0.02, 0.1) * (1 + 0.2 * smooth_noise(rng, shape, 2.0))
    return (background + signal).astype(np.float32)


def degrade(image: np.ndarray, labels: np.ndarray, rng: np.random.Generator, *, strength: float = 1.0,
            text: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Illumination, blur, noise, scan lines, JPEG, labels; returns a [0, 1] float32 image and the truth.

    ``strength`` scales blur and noise (0: clean). Truth under a burned-in label box becomes 0.
    """
    h, w = image.shape
    out = image.astype(np.float32)
    lo, hi = np.percentile(out, (0.5, 99.5))
    out = (out - lo) / max(hi - lo, 1e-6)
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    if rng.random() < 0.6:
        ramp = rng.normal(0, 0.15 * strength) * (xx / w - 0.5) + rng.normal(0, 0.15 * strength) * (yy / h - 0.5)
        out = out + ramp + rng.uniform(0, 0.15) * strength * smooth_noise(rng, (h, w), max(h, w) / 4)
    blur = rng.uniform(0.0, 1.6) * strength
    if blur > 0.3:
        out = cv2.GaussianBlur(out, (0, 0), blur)
    dose = np.exp(rng.uniform(np.log(8), np.log(400))) / max(strength, 1e-3)
    shifted = np.clip(out + 0.1, 0, None)
    out = rng.poisson(shifted * dose).astype(np.float32) / dose - 0.1
    out = out + rng.normal(0, rng.uniform(0.0, 0.04) * strength, (h, w)).astype(np.float32)
    if rng.random() < 0.3 * strength:  # scan-line jitter
        out = out + rng.normal(0, rng.uniform(0.005, 0.04), (h, 1)).astype(np.float32)
    if rng.random() < 0.2 * strength:
        out = cv2.GaussianBlur(out, (0, 0), 0.6)
    truth = labels
    if text if text is not None else rng.random() < 0.15:
        out, truth = _burn_label(out, labels, rng)
    out8 = np.clip(out * 255 * rng.uniform(0.7, 1.0) + rng.uniform(0, 40), 0, 255).astype(np.uint8)
    if rng.random() < 0.25 * strength:
        ok, buf = cv2.imencode(".jpg", out8, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(35, 90))])
        out8 = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    return out8.astype(np.float32) / 255.0, truth


def _burn_label(image: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A panel letter or scale-bar label in a corner, black on white or white on black."""
    h, w = image.shape
    text = str(rng.choice(["(a)", "b", "(c)", "200 nm", "1 um", "50 nm", "d)"]))
    scale = max(0.4, min(h, w) / 500 * rng.uniform(0.6, 1.5))
    thick = max(1, int(round(scale * 2)))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    pad = int(rng.integers(2, 8))
    y0 = pad if rng.random() < 0.5 else h - th - base - 3 * pad
    x0 = pad if rng.random() < 0.5 else w - tw - 3 * pad
    y0, x0 = max(0, y0), max(0, x0)
    box = np.s_[y0 : min(h, y0 + th + base + 2 * pad), x0 : min(w, x0 + tw + 2 * pad)]
    dark_on_light = rng.random() < 0.5
    image = image.copy()
    if rng.random() < 0.7:
        image[box] = 1.0 if dark_on_light else 0.0
    colour = 0.0 if dark_on_light else 1.0
    cv2.putText(image, text, (x0 + pad, y0 + pad + th), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, thick, cv2.LINE_AA)
    truth = labels.copy()
    truth[box] = 0
    return image, truth
