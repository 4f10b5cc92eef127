"""Whether a text read beside a scale bar is a scale-bar label: a round length in a microscope's unit."""

from __future__ import annotations

import re

from particle_gui.core.errors import CalibrationError
from particle_gui.core.units import parse_length_nm

#: A scale-bar label ends in one of the units microscopes write (pm to mm).
LABEL_UNIT = re.compile(r"\d(pm|nm|[µμu]m|mm)$")
#: The longest scale bar on a micrograph, in millimetres (an SEM field at its lowest magnification is a few mm wide).
MAX_LABEL_MM = 5


def is_scale_label(text: str) -> bool:
    """Whether ``text`` reads as a scale-bar label: a round number and a length unit.

    A bar longer than :data:`MAX_LABEL_MM` is no scale bar of a micrograph ("500 nm" misread "500mm").

    >>> [is_scale_label(t) for t in ("200 nm", "0.5 µm", "1um", "200", "5.00010nm", "2 m", "2 mm", "500mm")]
    [True, True, True, False, False, False, True, False]
    """
    if not (LABEL_UNIT.search(text.replace(" ", "")) and round_number(text)):
        return False
    try:
        return parse_length_nm(text.replace(",", ".")) <= MAX_LABEL_MM * 1e6
    except CalibrationError:
        return False


#: The significant digits of a scale bar's length: one digit (1-2-5 and 3, 4 ... steps) or these.
ROUND_PAIRS = frozenset({"15", "25", "75"})


def round_number(text: str) -> bool:
    """Whether the label's number is as round as scale bars are.

    Instruments label bars 1-2-5 (and 3, 4, 2.5, 1.5, 7.5) times a power of ten, with at most two
    decimals: "200 nm", "0.5 µm", "20.00 µm". A line that ran into other text reads "5.00010nm",
    a misread digit "12.00 µm" or "520 nm": none is a label.

    >>> [round_number(t) for t in ("200nm", "0.5µm", "20.00µm", "250nm", "5.00010nm", "1234nm", "25.000µm", "520nm")]
    [True, True, True, True, False, False, False, False]
    """
    number = re.match(r"[\d.,]+", text.replace(" ", ""))
    if number is None:
        return False
    parts = number.group(0).replace(",", ".").split(".")
    if len(parts) > 2 or (len(parts) == 2 and len(parts[1]) > 2):
        return False  # "25.000": a run into the magnification ("x25,000  1 µm"), not a label
    digits = "".join(parts).strip("0")
    return len(digits) == 1 or digits in ROUND_PAIRS
