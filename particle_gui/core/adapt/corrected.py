"""The user's corrected images: an image and the label image the user made right.

Corrections come as ``<stem>_labels.tif`` files (what ``analyze`` writes, edited in the window or
in another program) beside or apart from their images, or as ``.pgsession`` files (the window's
sessions, which name their image). Every problem is said plainly: a labels file without its image,
labels of another size, labels that are not integer instances, a folder without any corrections.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from particle_gui.core.errors import ParticleGuiError
from particle_gui.core.io.loading import IMAGE_SUFFIXES, LoadedImage, load_image

LABELS_SUFFIX = "_labels.tif"
SESSION_SUFFIX = ".pgsession"


class CorrectionsError(ParticleGuiError):
    """The corrected labels cannot be used (missing, unreadable, or not of their image)."""


@dataclass(frozen=True, eq=False)
class CorrectedImage:
    """One image and the user's corrected instance labels (0 = background)."""

    image: LoadedImage
    labels: np.ndarray
    #: The labels' file (or session); None for labels made in memory (the window's corrections).
    source: Path | None = None

    @property
    def name(self) -> str:
        for path in (self.image.path, self.source):
            if path is not None:
                return Path(path).name
        return "unnamed image"


def read_labels(path: Path) -> np.ndarray:
    """An integer instance label image from a TIFF; :class:`CorrectionsError` if it is not one."""
    import tifffile

    try:
        labels = tifffile.imread(path)
    except (OSError, ValueError, tifffile.TiffFileError) as exc:
        raise CorrectionsError(f"{path}: cannot read the labels ({exc}).") from exc
    labels = np.squeeze(labels)
    if labels.ndim != 2 or not np.issubdtype(labels.dtype, np.integer) or labels.size and labels.min() < 0:
        raise CorrectionsError(f"{path}: not a label image (want one plane of non-negative whole numbers, "
                               f"found {labels.dtype} of shape {labels.shape}).")
    return labels.astype(np.int32)


def _image_for(labels_path: Path, images_dir: Path) -> Path:
    stem = labels_path.name[: -len(LABELS_SUFFIX)]
    for suffix in IMAGE_SUFFIXES:
        for candidate in (images_dir / f"{stem}{suffix}", images_dir / f"{stem}{suffix.upper()}"):
            if candidate.is_file():
                return candidate
    raise CorrectionsError(f"{labels_path.name}: no image {stem}.* in {images_dir}.")


def _checked(image: LoadedImage, labels: np.ndarray, source: Path) -> CorrectedImage:
    if labels.shape != image.shape:
        raise CorrectionsError(f"{source.name}: the labels are {labels.shape[1]} x {labels.shape[0]} px but the image is "
                               f"{image.shape[1]} x {image.shape[0]} px; they are not of this image.")
    if not labels.any():
        raise CorrectionsError(f"{source.name}: the corrected labels hold no particle.")
    return CorrectedImage(image, labels, source)


def from_session(path: Path) -> CorrectedImage:
    """The corrected labels and image of a window session."""
    from particle_gui.core.editing.session import load_session

    state, _ = load_session(path)
    return _checked(load_image(state.image_path), np.asarray(state.labels, dtype=np.int32), path)


def find_corrected(images_dir: str | Path, labels_dir: str | Path | None = None) -> list[CorrectedImage]:
    """Every corrected image: ``<stem>_labels.tif`` and ``.pgsession`` files in ``labels_dir``.

    ``labels_dir`` defaults to ``images_dir``. Images are looked up in ``images_dir`` by stem.

    Raises
    ------
    CorrectionsError
        No corrections found, or one of them does not fit its image.
    """
    images_dir = Path(images_dir)
    labels_dir = images_dir if labels_dir is None else Path(labels_dir)
    for folder, what in ((images_dir, "images"), (labels_dir, "labels")):
        if not folder.is_dir():
            raise CorrectionsError(f"{folder}: no such folder (the {what}).")
    found: list[CorrectedImage] = []
    for path in sorted(labels_dir.iterdir()):
        if path.name.endswith(LABELS_SUFFIX):
            found.append(_checked(load_image(_image_for(path, images_dir)), read_labels(path), path))
        elif path.suffix == SESSION_SUFFIX:
            found.append(from_session(path))
    if not found:
        raise CorrectionsError(f"No corrections in {labels_dir}: expected <image stem>{LABELS_SUFFIX} files (as "
                               f"'analyze' writes them, corrected) or {SESSION_SUFFIX} files saved by the window.")
    return found
