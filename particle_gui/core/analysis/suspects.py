"""Suspect particles: the ones most likely wrong, so a user corrects what changes the numbers first.

A particle is suspect when the method was unsure of it (its ``confidence`` under a threshold for
the method), when it is likely two or more particles left as one (``solidity`` under
:data:`SOLIDITY_MIN`: a clump's outline is concave), or when its size is far from the image's
other particles (ECD over :data:`LARGE_RATIO` or under :data:`SMALL_RATIO` times the median:
merged clumps, fragments, dust). The ``suspect`` column says whether, ``suspect_reason`` why.

Thresholds were chosen on 40 images of the EMPS training split (``benchmarks/bench_suspects.py
--sources emps_train``): there they flag 73 % (network) and 77 % (classical) of the particles no
true particle matches at IoU 0.5, and 12 % of the right ones. The other sources are reported
by that benchmark, never tuned on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Particles the method is less sure of than this are suspect (the classical certainty runs lower).
CONFIDENCE_MIN = {"dl": 0.6, "classical": 0.4}
#: Convex-hull filling under this: likely two or more particles left as one.
SOLIDITY_MIN = 0.85
#: ECD over this many times the image's median: likely a merged clump.
LARGE_RATIO = 3.0
#: ECD under this fraction of the median: likely a fragment or dust.
SMALL_RATIO = 0.4

SUSPECT_COLUMNS = ("suspect", "suspect_reason")


def add_suspect_columns(table: pd.DataFrame, *, method: str) -> pd.DataFrame:
    """``table`` with ``suspect`` (bool) and ``suspect_reason`` (text, "" when not suspect).

    >>> t = pd.DataFrame({"ecd": [10.0, 11.0, 12.0, 40.0, 10.0], "solidity": [0.95, 0.7, 0.95, 0.9, 0.95],
    ...                   "confidence": [0.9, 0.9, 0.9, 0.9, 0.2]})
    >>> add_suspect_columns(t, method="dl")["suspect_reason"].tolist()
    ['', 'likely several particles', '', 'much larger than the others', 'low confidence']
    """
    table = table.copy()
    n = len(table)
    reasons = [[] for _ in range(n)]
    if n:
        confidence = table["confidence"].to_numpy(dtype=np.float64) if "confidence" in table else np.full(n, np.nan)
        ecd = table["ecd"].to_numpy(dtype=np.float64)
        median = float(np.median(ecd)) if n >= 3 else float("nan")
        rules = (
            (np.nan_to_num(confidence, nan=1.0) < CONFIDENCE_MIN.get(method, 0.5), "low confidence"),
            (table["solidity"].to_numpy(dtype=np.float64) < SOLIDITY_MIN, "likely several particles"),
            (ecd > LARGE_RATIO * median if np.isfinite(median) else np.zeros(n, bool), "much larger than the others"),
            (ecd < SMALL_RATIO * median if np.isfinite(median) else np.zeros(n, bool), "much smaller than the others"),
        )
        for flags, reason in rules:
            for i in np.flatnonzero(flags):
                reasons[i].append(reason)
    table["suspect"] = np.array([bool(r) for r in reasons], dtype=bool)
    table["suspect_reason"] = ["; ".join(r) for r in reasons]
    return table
