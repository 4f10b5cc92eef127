"""Fonts for rendering burned-in text (scale-bar labels, data bars).

Instrument software writes its labels in Arial-, Helvetica-, Times- or Courier-like fonts. The
families below come from Debian's font packages (``fonts-liberation``, ``fonts-freefont-ttf``,
``fonts-roboto``, ``fonts-open-sans``, ``fonts-urw-base35``, ``fonts-crosextra-carlito``,
``fonts-cantarell``); DejaVu Sans ships with matplotlib, so there is always at least one.
:data:`HELD_OUT` families are never used to train the label reader, so its benchmark can say
how it does on fonts it has not seen.
"""

from __future__ import annotations

import functools
from pathlib import Path

import matplotlib

_SEARCH = (Path("/usr/share/fonts"), Path(matplotlib.get_data_path()) / "fonts" / "ttf")

#: Family name -> font file names (the first found is used).
FAMILIES: dict[str, tuple[str, ...]] = {
    "DejaVu Sans": ("DejaVuSans.ttf",),
    "DejaVu Sans Bold": ("DejaVuSans-Bold.ttf",),
    "DejaVu Serif": ("DejaVuSerif.ttf",),
    "DejaVu Sans Mono": ("DejaVuSansMono.ttf",),
    "DejaVu Sans Condensed": ("DejaVuSansCondensed.ttf",),
    "Liberation Sans": ("LiberationSans-Regular.ttf",),
    "Liberation Sans Bold": ("LiberationSans-Bold.ttf",),
    "Liberation Serif": ("LiberationSerif-Regular.ttf",),
    "Liberation Mono": ("LiberationMono-Regular.ttf",),
    "FreeSans": ("FreeSans.ttf",),
    "FreeSerif": ("FreeSerif.ttf",),
    "FreeMono": ("FreeMono.ttf",),
    "Roboto": ("Roboto-Regular.ttf",),
    "Open Sans": ("OpenSans-Regular.ttf",),
    "Nimbus Sans": ("NimbusSans-Regular.otf",),
    "Nimbus Roman": ("NimbusRoman-Regular.otf",),
    "Carlito": ("Carlito-Regular.ttf",),
    "URW Gothic": ("URWGothic-Book.otf",),
    "Nimbus Sans Narrow": ("NimbusSansNarrow-Regular.otf",),
    "Cantarell": ("Cantarell-Regular.otf",),
    "STIX": ("STIXGeneral.ttf",),
}

#: Families the label reader never trains on.
HELD_OUT: tuple[str, ...] = ("Carlito", "URW Gothic", "Nimbus Sans Narrow", "Cantarell", "STIX")


@functools.lru_cache(maxsize=None)
def font_path(family: str) -> Path | None:
    """The file of ``family`` on this machine, or None."""
    for name in FAMILIES[family]:
        for root in _SEARCH:
            found = next(iter(sorted(root.rglob(name))), None) if root.is_dir() else None
            if found is not None:
                return found
    return None


def available(*, training: bool | None = None) -> list[str]:
    """Families installed here; ``training=True`` leaves out :data:`HELD_OUT`, False keeps only them."""
    names = [f for f in FAMILIES if font_path(f) is not None]
    if training is True:
        names = [f for f in names if f not in HELD_OUT]
    elif training is False:
        names = [f for f in names if f in HELD_OUT]
    return names
