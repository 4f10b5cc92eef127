"""Make the application icons from ``particle_gui/resources/particle_gui.png`` (the one source
image, also the window icon of a pip-installed or frozen app: package data).

Writes ``resources/particle_gui.ico`` (Windows: executable, installer, file association) and
``resources/particle_gui.icns`` (macOS ``.app``). The outputs are committed; run this again
after changing the PNG::

    python packaging/make_icons.py          # write the icons
    python packaging/make_icons.py --check  # exit 1 when an output is missing or stale
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "particle_gui" / "resources" / "particle_gui.png"
ICO = ROOT / "resources" / "particle_gui.ico"
ICNS = ROOT / "resources" / "particle_gui.icns"
ICO_SIZES_PX = (16, 20, 24, 32, 40, 48, 64, 128, 256)


def icon_files(source: Path = SOURCE) -> dict[Path, bytes]:
    """The bytes of every generated icon file, keyed by where it belongs."""
    image = Image.open(source)
    image.load()
    if image.size[0] != image.size[1] or image.size[0] < 256:
        raise ValueError(f"{source} must be square and at least 256 px, not {image.size}")
    image = image.convert("RGBA")
    ico = io.BytesIO()
    image.save(ico, format="ICO", sizes=[(size, size) for size in ICO_SIZES_PX])
    icns = io.BytesIO()
    image.save(icns, format="ICNS")  # every Apple size up to the source's (16 ... 512 px)
    return {ICO: ico.getvalue(), ICNS: icns.getvalue()}


def decoded_images(data: bytes) -> list[tuple[tuple[int, int], bytes]]:
    """Every image an ICO or ICNS file holds, decoded to RGBA: what ``--check`` compares.

    Bytes differ between platforms (each Pillow wheel carries its own zlib, which compresses the
    PNG entries differently), pixels do not.
    """
    image = Image.open(io.BytesIO(data))
    sizes = sorted(image.info.get("sizes", {image.size}))
    images = []
    for size in sizes:
        frame = Image.open(io.BytesIO(data))
        frame.size = size[:2]
        if len(size) == 3:  # ICNS: (width, height, scale)
            frame.load(scale=size[2])
        else:
            frame.load()
        images.append((frame.size, frame.convert("RGBA").tobytes()))
    return images


def is_current(path: Path, data: bytes) -> bool:
    """Whether ``path`` holds the same icon images as ``data`` (see ``decoded_images``)."""
    if not path.is_file():
        return False
    current = path.read_bytes()
    return current == data or decoded_images(current) == decoded_images(data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the outputs are up to date")
    args = parser.parse_args(argv)
    stale = []
    for path, data in icon_files().items():
        if is_current(path, data):
            continue
        if args.check:
            stale.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"wrote {path.relative_to(ROOT)} ({len(data):,} bytes)")
    for path in stale:
        print(f"out of date: {path.relative_to(ROOT)} (run python packaging/make_icons.py)", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
