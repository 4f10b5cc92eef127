"""Access to the EMPS training set (electron-microscopy particle segmentation).

The data live outside the repository, in ``<repo>/../shared/data/emps_train``
(override with the ``PARTICLE_GUI_EMPS_DIR`` environment variable): RGB PNG
images in ``images/`` and uint16 instance label PNGs with the same file names
in ``segmaps/``. The directory is treated as read-only.

Run ``python -m evaluation.emps --write-split`` to (re)write the fixed
train/validation split to ``evaluation/emps_split.json``.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
from PIL import Image

__all__ = [
    "DATA_DIR",
    "SPLIT_PATH",
    "list_image_names",
    "load_pair",
    "load_split",
    "split",
    "write_split",
]

#: Location of the EMPS training data.
DATA_DIR: Path = Path(
    os.environ.get(
        "PARTICLE_GUI_EMPS_DIR",
        Path(__file__).resolve().parents[1].parent / "shared" / "data" / "emps_train",
    )
)

#: The committed train/validation split.
SPLIT_PATH: Path = Path(__file__).resolve().parent / "emps_split.json"


def list_image_names(*, data_dir: Path | str | None = None) -> list[str]:
    """Sorted file stems of the PNG images in ``<data_dir>/images``.

    Parameters
    ----------
    data_dir : path-like, optional
        Dataset root; defaults to :data:`DATA_DIR`.

    Returns
    -------
    list of str
        Image names without the ``.png`` suffix, sorted.

    Raises
    ------
    FileNotFoundError
        If the ``images`` directory does not exist.
    """
    images = Path(DATA_DIR if data_dir is None else data_dir) / "images"
    if not images.is_dir():
        raise FileNotFoundError(f"EMPS image directory not found: {images}")
    return sorted(p.stem for p in images.glob("*.png"))


def split(
    *,
    seed: int = 0,
    validation_fraction: float = 0.2,
    data_dir: Path | str | None = None,
) -> tuple[list[str], list[str]]:
    """Deterministic train/validation split of the image names.

    The sorted names are permuted with ``numpy.random.default_rng(seed)``
    and the first ``round(validation_fraction * n)`` become the validation
    set.

    Parameters
    ----------
    seed : int, default 0
        Seed of the permutation.
    validation_fraction : float, default 0.2
        Fraction of images put in the validation set, in ``[0, 1]``.
    data_dir : path-like, optional
        Dataset root; defaults to :data:`DATA_DIR`.

    Returns
    -------
    train, validation : list of str
        Disjoint, each sorted, together covering every image name.
    """
    if not 0.0 <= validation_fraction <= 1.0:
        raise ValueError("validation_fraction must be in [0, 1]")
    names = list_image_names(data_dir=data_dir)
    order = np.random.default_rng(seed).permutation(len(names))
    n_val = round(validation_fraction * len(names))
    validation = sorted(names[i] for i in order[:n_val])
    train = sorted(names[i] for i in order[n_val:])
    return train, validation


def load_pair(name: str, *, data_dir: Path | str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Load one image and its instance label image.

    Parameters
    ----------
    name : str
        Image name (file stem, without ``.png``).
    data_dir : path-like, optional
        Dataset root; defaults to :data:`DATA_DIR`.

    Returns
    -------
    image : numpy.ndarray
        The image as read by Pillow (``(H, W, 3)`` uint8 for the RGB files).
    labels : numpy.ndarray
        ``(H, W)`` int32 instance labels, 0 = background.
    """
    root = Path(DATA_DIR if data_dir is None else data_dir)
    with Image.open(root / "images" / f"{name}.png") as im:
        image = np.asarray(im)
    with Image.open(root / "segmaps" / f"{name}.png") as im:
        labels = np.asarray(im).astype(np.int32)
    return image, labels


def write_split(
    path: Path | str = SPLIT_PATH,
    *,
    seed: int = 0,
    validation_fraction: float = 0.2,
    data_dir: Path | str | None = None,
) -> Path:
    """Compute :func:`split` and write it as JSON.

    Parameters
    ----------
    path : path-like, default :data:`SPLIT_PATH`
        Output file.
    seed, validation_fraction, data_dir
        Passed to :func:`split`.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    train, validation = split(
        seed=seed, validation_fraction=validation_fraction, data_dir=data_dir
    )
    payload = {
        "seed": seed,
        "validation_fraction": validation_fraction,
        "train": train,
        "validation": validation,
    }
    path = Path(path)
    path.write_text(json.dumps(payload, indent=1) + "\n")
    return path


def load_split(path: Path | str = SPLIT_PATH) -> tuple[list[str], list[str]]:
    """Read a split written by :func:`write_split`.

    Parameters
    ----------
    path : path-like, default :data:`SPLIT_PATH`
        The JSON file.

    Returns
    -------
    train, validation : list of str
    """
    payload = json.loads(Path(path).read_text())
    return list(payload["train"]), list(payload["validation"])


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (``python -m evaluation.emps``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-split", action="store_true",
                        help="write the train/validation split JSON")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--validation-fraction", type=float, default=0.2)
    parser.add_argument("--output", type=Path, default=SPLIT_PATH)
    args = parser.parse_args(argv)
    if not args.write_split:
        parser.print_help()
        return 1
    out = write_split(args.output, seed=args.seed,
                      validation_fraction=args.validation_fraction)
    train, validation = load_split(out)
    print(f"wrote {out}: {len(train)} train, {len(validation)} validation")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
