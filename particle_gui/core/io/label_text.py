"""Whether a text read beside a scale bar is a scale-bar label: a round length in a microscope's unit."""

from __future__ import annotations

import re

#: A scale-bar label ends in one of the units microscopes write (pm to mm).
LABEL_UNIT = re.compile(r"\d(pm|nm|[µμu]m|mm)$")


def is_scale_label(text: str) -> bool:
    """Whether ``text`` reads as a scale-bar label: a round number and a length unit.

    >>> [is_scale_label(t) for t in ("200 nm", "0.5 µm", "1um", "200", "5.00010nm", "2 m")]
    [True, True, True, False, False, False]
    """
    return bool(LABEL_UNIT.search(text.replace(" ", ""))) and round_number(text)


def round_number(text: str) -> bool:
    """Whether the label's number has at most two significant digits, as scale bars do.

    Instruments label bars 1-2-5 (and 2.5, 3, 25, 250...) with at most two decimals: "200 nm",
    "0.5 µm", "20.00 µm". A line that ran into other text reads "5.00010nm" and is no label.

    >>> [round_number(t) for t in ("200nm", "0.5µm", "20.00µm", "250nm", "5.00010nm", "1234nm", "25.000µm")]
    [True, True, True, True, False, False, False]
    """
    number = re.match(r"[\d.,]+", text.replace(" ", ""))
    if number is None:
        return False
    parts = number.group(0).replace(",", ".").split(".")
    if len(parts) > 2 or (len(parts) == 2 and len(parts[1]) > 2):
        return False  # "25.000": a run into the magnification ("x25,000  1 µm"), not a label
    digits = "".join(parts).strip("0")
    return 0 < len(digits) <= 2
