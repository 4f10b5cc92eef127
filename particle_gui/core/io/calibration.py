"""Pixel-size calibration: where the pixel size comes from, and choosing among sources."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Sources in order of trust.
SOURCE_METADATA = "metadata"
SOURCE_SCALE_BAR = "scale_bar"
SOURCE_MANUAL = "manual"
SOURCE_UNCALIBRATED = "uncalibrated"

#: Relative disagreement between a scale bar and metadata that earns a warning.
DISAGREEMENT_WARNING = 0.02


@dataclass(frozen=True)
class Calibration:
    """The size of one pixel and where that number came from.

    Attributes
    ----------
    pixel_size_nm : float or None
        Edge length of one (square) pixel in nanometres; None when uncalibrated.
    source : str
        One of ``"metadata"``, ``"scale_bar"``, ``"manual"``, ``"uncalibrated"``.
    detail : str
        Human-readable origin, e.g. ``"Zeiss CZ_SEM tag"``.
    """

    pixel_size_nm: float | None
    source: str
    detail: str = ""

    @property
    def is_calibrated(self) -> bool:
        return self.pixel_size_nm is not None

    @property
    def unit(self) -> str:
        """Length unit of calibrated measurements: ``"nm"``, or ``"px"`` when uncalibrated."""
        return "nm" if self.is_calibrated else "px"

    def describe(self) -> str:
        """One line for a status bar or a report."""
        if not self.is_calibrated:
            return "uncalibrated (sizes in pixels)"
        text = f"{self.pixel_size_nm:.6g} nm/px from {self.source.replace('_', ' ')}"
        return f"{text} ({self.detail})" if self.detail else text


UNCALIBRATED = Calibration(None, SOURCE_UNCALIBRATED, "no metadata, scale bar or pixel size given")


def relative_difference(a: float, b: float) -> float:
    """|a - b| relative to b."""
    return abs(a - b) / b


def _override(chosen: Calibration, metadata: Calibration | None, what: str, warnings: list[str]) -> Calibration:
    """``chosen`` noted as overriding the metadata (with a warning when they disagree by > 2 %)."""
    if metadata is None or not metadata.is_calibrated:
        return chosen
    diff = relative_difference(chosen.pixel_size_nm, metadata.pixel_size_nm)
    if diff > DISAGREEMENT_WARNING:
        warnings.append(
            f"The {what} ({chosen.pixel_size_nm:.4g} nm/px) overrides the metadata ({metadata.pixel_size_nm:.4g} nm/px, "
            f"{metadata.detail or 'instrument'}), which differs by {diff:.1%}."
        )
    detail = f"{chosen.detail}; overrides metadata {metadata.pixel_size_nm:.6g} nm/px"
    return Calibration(chosen.pixel_size_nm, chosen.source, detail)


def resolve_calibration(
    metadata: Calibration | None,
    *,
    scale_bar_length_nm: float | None = None,
    scale_bar_length_px: float | None = None,
    manual_pixel_size_nm: float | None = None,
    detected: Any = None,
) -> tuple[Calibration, list[str]]:
    """Choose the calibration: what the user states first, then metadata, then a read scale bar.

    1. A pixel size typed by the user (``--pixel-size``, the window's pixel-size field) always wins.
    2. A scale bar whose length the user gave (the window's scale-bar line, ``--scale-bar``) next.
    3. The file's instrument metadata, cross-checked against a confidently read scale bar.
    4. A detected scale bar whose label was read with confidence (``detected.confident``).
    5. Otherwise uncalibrated; a bar whose label could not be read is mentioned, never used.

    When 1 or 2 overrides metadata, the calibration's detail says so, and a disagreement of more
    than 2 % is a warning.

    Parameters
    ----------
    metadata : Calibration or None
        Calibration read from the file's instrument metadata, if any.
    scale_bar_length_nm, scale_bar_length_px : float, optional
        The physical length the user gave for a scale bar, and the bar's detected (or drawn)
        length in pixels. Both are needed for a scale-bar calibration.
    manual_pixel_size_nm : float, optional
        A pixel size typed by the user.
    detected : ScaleBar, optional
        The scale bar found in the image, with its label as read (:mod:`particle_gui.core.io.scalebar`).

    Returns
    -------
    calibration : Calibration
    warnings : list of str
        Overrides and disagreements (more than 2 %), and sources that could not be used.
    """
    warnings: list[str] = []
    if manual_pixel_size_nm is not None:
        typed = Calibration(manual_pixel_size_nm, SOURCE_MANUAL, "given by the user")
        return _override(typed, metadata, "typed pixel size", warnings), warnings
    if scale_bar_length_nm is not None:
        if scale_bar_length_px is None or scale_bar_length_px <= 0:
            warnings.append("A scale-bar length was given but no scale bar was found in the image.")
        else:
            drawn = Calibration(scale_bar_length_nm / scale_bar_length_px, SOURCE_SCALE_BAR,
                                f"{scale_bar_length_nm:g} nm over {scale_bar_length_px:g} px, given by the user")
            return _override(drawn, metadata, "scale-bar calibration", warnings), warnings
    confident = detected is not None and getattr(detected, "confident", False)
    if metadata is not None and metadata.is_calibrated:
        if confident:
            diff = relative_difference(detected.pixel_size_nm, metadata.pixel_size_nm)
            if diff > DISAGREEMENT_WARNING:
                warnings.append(
                    f"The scale bar ({detected.label!r} over {detected.length_px} px: {detected.pixel_size_nm:.4g} nm/px) "
                    f"disagrees with the metadata ({metadata.pixel_size_nm:.4g} nm/px) by {diff:.1%}; using the "
                    "metadata. If the image was resized, calibrate with the scale-bar tool or give the pixel size."
                )
        return metadata, warnings
    if confident:
        return Calibration(detected.pixel_size_nm, SOURCE_SCALE_BAR,
                           f"label {detected.label!r} read over {detected.length_px} px "
                           f"(confidence {detected.confidence:.0%})"), warnings
    if detected is not None:
        read = f" (read {detected.label!r}, confidence {detected.confidence:.0%})" if detected.label else ""
        warnings.append(
            f"A scale bar of {detected.length_px} px was found but its label could not be read with confidence{read}; "
            "it is not used. Confirm it with the scale-bar tool or give the pixel size."
        )
    return UNCALIBRATED, warnings
