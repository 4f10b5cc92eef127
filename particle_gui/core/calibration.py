"""Pixel-size calibration: where the pixel size comes from, and choosing among sources."""

from __future__ import annotations

from dataclasses import dataclass

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


def resolve_calibration(
    metadata: Calibration | None,
    *,
    scale_bar_length_nm: float | None = None,
    scale_bar_length_px: float | None = None,
    manual_pixel_size_nm: float | None = None,
) -> tuple[Calibration, list[str]]:
    """Choose the calibration in order of trust: metadata, scale bar, manual, uncalibrated.

    Parameters
    ----------
    metadata : Calibration or None
        Calibration read from the file's instrument metadata, if any.
    scale_bar_length_nm, scale_bar_length_px : float, optional
        The physical length the user gave for the scale bar, and the bar's detected (or drawn)
        length in pixels. Both are needed for a scale-bar calibration.
    manual_pixel_size_nm : float, optional
        A pixel size typed by the user.

    Returns
    -------
    calibration : Calibration
    warnings : list of str
        Disagreements between sources (more than 2 %) and sources that could not be used.
    """
    warnings: list[str] = []
    from_bar = None
    if scale_bar_length_nm is not None:
        if scale_bar_length_px is None or scale_bar_length_px <= 0:
            warnings.append("A scale-bar length was given but no scale bar was found in the image.")
        else:
            from_bar = Calibration(
                scale_bar_length_nm / scale_bar_length_px,
                SOURCE_SCALE_BAR,
                f"{scale_bar_length_nm:g} nm over {scale_bar_length_px:g} px",
            )
    from_user = None
    if manual_pixel_size_nm is not None:
        from_user = Calibration(manual_pixel_size_nm, SOURCE_MANUAL, "given by the user")

    if metadata is not None and metadata.is_calibrated:
        for other in (from_bar, from_user):
            if other is None:
                continue
            diff = relative_difference(other.pixel_size_nm, metadata.pixel_size_nm)
            if diff > DISAGREEMENT_WARNING:
                warnings.append(
                    f"The {other.source.replace('_', ' ')} calibration ({other.pixel_size_nm:.4g} nm/px) "
                    f"disagrees with the metadata ({metadata.pixel_size_nm:.4g} nm/px) by {diff:.1%}; "
                    "using the metadata."
                )
        return metadata, warnings
    for candidate in (from_bar, from_user):
        if candidate is not None:
            return candidate, warnings
    return UNCALIBRATED, warnings
