"""Which files a batch analyses and the names their outputs take."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path

from particle_gui.core.io.loading import IMAGE_SUFFIXES

#: Longest output stem (UTF-8 bytes): with ``_particles.csv`` and a ``_NN`` repeat number it fits
#: the 255-byte file-name limit of every common file system.
MAX_STEM_BYTES = 200


def images_in_folder(folder: str | Path) -> list[Path]:
    """Image files directly inside ``folder`` (by suffix, any case), sorted by name; hidden files skipped."""
    folder = Path(folder)
    found = [
        path
        for path in folder.iterdir()
        if path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".") and path.is_file()
    ]
    return sorted(found, key=lambda path: path.name)


def find_inputs(inputs: Iterable[str | Path]) -> list[Path]:
    """Expand inputs into the list of files to analyse, in order, each file once.

    A folder contributes the images directly inside it (:func:`images_in_folder`). Any other
    path is kept as it is, whatever its suffix and even if it does not exist, so that it is
    attempted and reported rather than silently dropped.
    """
    found: list[Path] = []
    seen: set[Path] = set()
    for item in inputs:
        path = Path(item)
        for candidate in images_in_folder(path) if path.is_dir() else [path]:
            key = candidate.resolve()
            if key not in seen:
                seen.add(key)
                found.append(candidate)
    return found


def unique_stems(paths: Sequence[Path]) -> list[str]:
    """Output stems, one per path: the file's stem, with ``_2``, ``_3``... for repeats.

    Names are compared ignoring case, as file systems on Windows and macOS do.

    >>> unique_stems([Path("a/x.tif"), Path("b/x.tif"), Path("x_2.png")])
    ['x', 'x_2', 'x_2_2']
    """
    return unique_names(short_stem(path.stem) for path in paths)


def short_stem(stem: str) -> str:
    """``stem``, shortened with a hash when it is too long for output names (file names hold 255 bytes).

    A long stem becomes its start, ``~`` and 8 hex digits of its hash, so that distinct long names
    stay distinct.

    >>> short_stem("image")
    'image'
    >>> len(short_stem("x" * 250).encode()), short_stem("x" * 250)[-9:]
    (200, '~c37ef17c')
    """
    encoded = stem.encode("utf-8", "surrogateescape")
    if len(encoded) <= MAX_STEM_BYTES:
        return stem
    digest = hashlib.sha1(encoded).hexdigest()[:8]
    start = encoded[: MAX_STEM_BYTES - 9].decode("utf-8", "ignore")  # never a broken character
    return f"{start}~{digest}"


def unique_names(names: Iterable[str]) -> list[str]:
    """The names in order, with ``_2``, ``_3``... appended to repeats (compared ignoring case).

    >>> unique_names(["x", "X", "y"])
    ['x', 'X_2', 'y']
    """
    used: set[str] = set()
    result = []
    for name in names:
        candidate, number = name, 1
        while candidate.casefold() in used:
            number += 1
            candidate = f"{name}_{number}"
        used.add(candidate.casefold())
        result.append(candidate)
    return result
