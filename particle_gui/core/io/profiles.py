"""Calibration profiles from reference standards: trust a magnification only once it is checked.

An image of a standard of known size (certified spheres, or a grating of known pitch) taken on
an instrument at a magnification says what its pixel really measures. The ratio to the pixel
size the instrument wrote in the file is the instrument's correction factor at that
magnification; a named profile keeps it and applies it to later images from the same
instrument and magnification, with provenance. Profiles are plain JSON files (a list), written
where the caller says (the window keeps them with its settings; the command line takes
``--profiles FILE``), so they can be exported, shared and versioned.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from particle_gui.core.io.calibration import SOURCE_METADATA, Calibration
from particle_gui.core.errors import CalibrationError
from particle_gui.core.io.instrument import InstrumentInfo

PROFILES_FORMAT_VERSION = 1
#: A profile applies to images whose magnification (or field width) is within this fraction.
MAGNIFICATION_TOLERANCE = 0.02
#: Fewer spheres than this give a warning: the median diameter is then a poor estimate.
MIN_SPHERES = 20


@dataclass(frozen=True)
class CalibrationProfile:
    """A correction factor for one instrument at one magnification, with how it was found.

    ``factor`` multiplies the pixel size the instrument writes; ``pixel_size_nm`` is the
    standard's own pixel size (the only calibration for images without metadata).
    """

    name: str
    instrument: str
    magnification: float | None
    field_width_nm: float | None
    factor: float | None
    pixel_size_nm: float
    standard: str
    measured: dict = field(default_factory=dict)
    source_image: str = ""
    created: str = ""

    def matches(self, instrument: InstrumentInfo | None) -> bool:
        """Whether an image from ``instrument`` (at its magnification) falls under this profile."""
        if instrument is None or instrument.key != self.instrument:
            return False
        for mine, theirs in ((self.magnification, instrument.magnification), (self.field_width_nm, instrument.field_width_nm)):
            if mine and theirs:
                return abs(theirs - mine) <= MAGNIFICATION_TOLERANCE * mine
        return False

    def apply(self, metadata: Calibration | None) -> Calibration:
        """The corrected calibration of an image this profile matches."""
        if self.factor is not None and metadata is not None and metadata.is_calibrated:
            return Calibration(metadata.pixel_size_nm * self.factor, SOURCE_METADATA,
                               f"{metadata.detail} x profile {self.name!r} (factor {self.factor:.4f}, {self.standard})")
        return Calibration(self.pixel_size_nm, SOURCE_METADATA,
                           f"profile {self.name!r} ({self.standard}; instrument wrote no pixel size)")


def pixel_size_from_spheres(diameters_px: np.ndarray, certified_nm: float) -> tuple[float, dict]:
    """Pixel size (nm) that makes the median equivalent diameter of ``diameters_px`` ``certified_nm``.

    Returns the pixel size and what was measured (count, median diameter in px and its 95 %
    bootstrap interval, and the relative uncertainty that interval gives the pixel size).

    >>> round(pixel_size_from_spheres(np.full(30, 50.0), 100.0)[0], 3)
    2.0
    """
    d = np.asarray(diameters_px, dtype=np.float64)
    d = d[np.isfinite(d) & (d > 0)]
    if d.size < 3:
        raise CalibrationError(f"Only {d.size} particles were measured on the standard; at least 3 are needed "
                               f"(and {MIN_SPHERES} or more for a trustworthy calibration).")
    median = float(np.median(d))
    rng = np.random.default_rng(0)
    boot = np.median(rng.choice(d, size=(1000, d.size)), axis=1)
    low, high = np.percentile(boot, (2.5, 97.5))
    measured = {"count": int(d.size), "median_diameter_px": median, "median_ci95_px": [float(low), float(high)],
                "relative_uncertainty": float((high - low) / 2 / median)}
    return certified_nm / median, measured


def pitch_px(grey: np.ndarray) -> tuple[float, dict]:
    """The period (px) of a grating (lines or a cross grating) from the strongest peak of its power spectrum.

    The peak is taken along each axis and refined to sub-pixel frequency by a parabola through it.

    >>> x = np.arange(512); image = np.tile(0.5 + 0.5 * np.sin(2 * np.pi * x / 16.0), (256, 1))
    >>> round(pitch_px(image)[0], 2)
    16.0
    """
    grey = np.asarray(grey, dtype=np.float64)
    window = np.outer(np.hanning(grey.shape[0]), np.hanning(grey.shape[1]))
    spectrum = np.abs(np.fft.rfft2((grey - grey.mean()) * window)) ** 2
    periods, found, peaks = [], {}, {}
    profiles = {"x": (spectrum.sum(axis=0), grey.shape[1]), "y": (spectrum.sum(axis=1)[: grey.shape[0] // 2], grey.shape[0])}
    for name, (profile, n) in profiles.items():
        low = 4  # periods longer than a quarter of the image are not a grating's
        if profile.size > low + 2:
            k = low + int(np.argmax(profile[low:-1]))
            if profile[k] >= 20 * np.median(profile[low:]):
                peaks[name] = (k, profile, n)
    strongest = max((profile[k] for k, profile, _ in peaks.values()), default=0.0)
    for name, (k, profile, n) in peaks.items():
        if profile[k] < 0.1 * strongest:
            continue  # leakage of the other axis's lines, not a grating along this one
        a, b, c = np.log(profile[k - 1 : k + 2] + 1e-12)
        offset = 0.5 * (a - c) / (a - 2 * b + c) if (a - 2 * b + c) != 0 else 0.0
        period = n / (k + offset)
        periods.append(period)
        found[f"period_{name}_px"] = float(period)
    if not periods:
        raise CalibrationError("No grating period was found: the image shows no clear repeating lines.")
    return float(np.mean(periods)), found


def make_profile(name: str, *, instrument: InstrumentInfo | None, metadata: Calibration | None, pixel_size_nm: float,
                 standard: str, measured: dict, source_image: str = "") -> CalibrationProfile:
    """A profile from a standard's measured pixel size and the image's own metadata."""
    if not name.strip():
        raise CalibrationError("A calibration profile needs a name.")
    if instrument is None:
        raise CalibrationError("The image names no instrument in its metadata, so a profile could not tell which later "
                               "images it applies to; use an original instrument file (Zeiss, FEI/Thermo TIFF).")
    if not math.isfinite(pixel_size_nm) or pixel_size_nm <= 0:
        raise CalibrationError(f"The standard gave an impossible pixel size ({pixel_size_nm:g} nm).")
    factor = pixel_size_nm / metadata.pixel_size_nm if metadata is not None and metadata.is_calibrated else None
    return CalibrationProfile(name.strip(), instrument.key, instrument.magnification, instrument.field_width_nm,
                              factor, pixel_size_nm, standard, measured, source_image,
                              datetime.now(timezone.utc).isoformat(timespec="seconds"))


def load_profiles(path: str | Path) -> list[CalibrationProfile]:
    """Profiles saved in ``path`` ([] when it does not exist)."""
    path = Path(path)
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format_version") != PROFILES_FORMAT_VERSION:
            raise ValueError(f"format version {data.get('format_version')!r}")
        return [CalibrationProfile(**entry) for entry in data["profiles"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CalibrationError(f"The calibration profiles in {path} cannot be read: {exc}") from exc


def save_profiles(path: str | Path, profiles: list[CalibrationProfile]) -> None:
    """Write ``profiles`` to ``path`` atomically (one profile per name: the newest wins)."""
    from particle_gui.core.output.export import atomic_write_text

    unique = {p.name: p for p in profiles}
    payload = {"format_version": PROFILES_FORMAT_VERSION, "profiles": [asdict(p) for p in unique.values()]}
    atomic_write_text(path, json.dumps(payload, indent=1) + "\n")


def matching_profile(profiles: list[CalibrationProfile], instrument: InstrumentInfo | None) -> CalibrationProfile | None:
    """The newest profile that applies to an image from ``instrument``, or None."""
    candidates = [p for p in profiles if p.matches(instrument)]
    return max(candidates, key=lambda p: p.created) if candidates else None


def profile_from_standard(name: str, image, *, spheres_nm: float | None = None, grating_nm: float | None = None,
                          params=None, result=None, notes: list[str] | None = None) -> CalibrationProfile:
    """Measure an image of a reference standard and make its profile (the command line's and the window's way).

    Parameters
    ----------
    name : str
    image : LoadedImage
        The standard, as loaded (its metadata and instrument facts are used).
    spheres_nm, grating_nm : float
        The certified sphere diameter, or the grating pitch (exactly one of them).
    params : PipelineParams, optional
        Analysis parameters for finding the spheres (default: the defaults).
    result : PipelineResult, optional
        An analysis of ``image`` already made (the window's, with its corrections): spheres are
        measured on its labels instead of analysing again.
    notes : list of str, optional
        Receives warnings (too few spheres).
    """
    from particle_gui.core.analysis.edges import half_maximum_areas
    from particle_gui.core.params import PipelineParams
    from particle_gui.core.analysis.pipeline import Pipeline

    if (spheres_nm is None) == (grating_nm is None):
        raise CalibrationError("Give either the spheres' certified diameter or the grating's pitch.")
    if spheres_nm is not None:
        if result is None:
            result = Pipeline(image).run(params or PipelineParams())
        inner = result.particles.loc[~result.particles["touches_edge"], "id"].to_numpy()
        areas = half_maximum_areas(image.grey, result.labels)  # sizes that depend on neither blur nor threshold
        diameters = np.sqrt(4.0 * np.array([areas[int(i)] for i in inner if int(i) in areas]) / np.pi)
        pixel_nm, measured = pixel_size_from_spheres(diameters, spheres_nm)
        standard = f"spheres {spheres_nm:g} nm (median of {measured['count']})"
        if measured["count"] < MIN_SPHERES and notes is not None:
            notes.append(f"Only {measured['count']} spheres were measured; {MIN_SPHERES} or more give a "
                         "trustworthy median.")
    else:
        region = Pipeline(image).region(params or PipelineParams())
        top, bottom = region.rows
        period, measured = pitch_px(region.grey[top:bottom])
        pixel_nm = grating_nm / period
        measured["period_px"] = period
        standard = f"grating pitch {grating_nm:g} nm"
    source = f"{image.path.name} (sha256 {image.sha256[:12]})" if image.path is not None else ""
    return make_profile(name, instrument=image.instrument, metadata=image.metadata_calibration,
                        pixel_size_nm=pixel_nm, standard=standard, measured=measured, source_image=source)
