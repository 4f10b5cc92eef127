"""Microscope vendor files: Gatan DM3/DM4, FEI TIA SER, Thermo Fisher Velox and Berkeley EMD, MRC.

Each reader returns the first 2-D frame exactly as stored (no scaling, no clipping) and the
pixel size from the file's own calibration, converted to nm. The reader libraries (ncempy,
GPL-3.0, with h5py; mrcfile, BSD-3-Clause) are imported inside the functions, so that importing
the engine stays fast.
"""

from __future__ import annotations

import math
import struct
import warnings
from pathlib import Path

import numpy as np

from particle_gui.core.io.calibration import Calibration
from particle_gui.core.errors import ImageLoadError
from particle_gui.core.io.format_axes import Axis, SizeCheck, make_calibration, note_frames, refuse_if_not_image

VENDOR_SUFFIXES = (".dm3", ".dm4", ".ser", ".emd", ".mrc")
#: Files that come with an image but hold none themselves (TIA's .emi beside its .ser files).
COMPANION_SUFFIXES = (".emi",)
def read_vendor_image(
    path: Path, notes: list[str], *, check_size: SizeCheck | None = None
) -> tuple[np.ndarray, Calibration | None]:
    """Read the first 2-D image of a DM3/DM4, SER, EMD or MRC file and its pixel size.

    Parameters
    ----------
    path : Path
        A file whose suffix (any case) is one of :data:`VENDOR_SUFFIXES`.
    notes : list of str
        Warnings for the user are appended (non-square pixels, frames not analysed...).
    check_size : callable, optional
        Called with the frame's ``(height, width)`` before its pixels are read.

    Returns
    -------
    image : ndarray, shape (H, W)
        The first frame as stored (native byte order), any real dtype.
    calibration : Calibration or None
        The file's pixel size (source ``"metadata"``), None when the file has none.

    Raises
    ------
    ImageLoadError
        The file holds no 2-D real-space image (a spectrum, a diffraction pattern...), or it is
        truncated or corrupt. The message starts with the path.
    """
    suffix = path.suffix.lower()
    readers = {".dm3": _read_dm, ".dm4": _read_dm, ".ser": _read_ser, ".emd": _read_emd, ".mrc": _read_mrc}
    if suffix not in readers:
        raise ImageLoadError(f"{path}: not a microscope file this program reads ({', '.join(VENDOR_SUFFIXES)}).")
    check = check_size or (lambda height, width: None)
    try:
        data, calibration = readers[suffix](path, notes, check)
    except (ImageLoadError, MemoryError):
        raise
    except ImportError as exc:
        package = (exc.name or "ncempy").split(".")[0]
        raise ImageLoadError(
            f"{path}: reading {suffix} files needs the package '{package}', which is not installed "
            f"(pip install {package})."
        ) from exc
    except Exception as exc:  # the readers raise many types for truncated or corrupt data
        raise ImageLoadError(
            f"{path}: cannot read the {_FORMAT_NAMES[suffix]} file; it is truncated or corrupt "
            f"({type(exc).__name__}: {exc})."
        ) from exc
    if data.ndim != 2:
        raise ImageLoadError(f"{path}: the reader returned data of shape {data.shape}, not a 2-D image.")
    if np.iscomplexobj(data):
        raise ImageLoadError(f"{path}: the file holds complex-valued data (a Fourier transform?), not an image.")
    if not data.dtype.isnative:
        data = data.astype(data.dtype.newbyteorder("="))
    return np.ascontiguousarray(data), calibration


def describe_companion(path: Path) -> str:
    """The message for a companion file opened as if it were an image (a TIA ``.emi``)."""
    series = sorted(
        p.name for p in path.parent.iterdir() if p.suffix.lower() == ".ser" and p.name.startswith(f"{path.stem}_")
    )
    hint = f" Open {', '.join(series)} instead." if series else " Open the .ser file(s) saved with it instead."
    return f"{path}: a TIA .emi file holds only the acquisition settings; the images are in the .ser files.{hint}"


_FORMAT_NAMES = {".dm3": "Gatan DM3", ".dm4": "Gatan DM4", ".ser": "FEI TIA SER", ".emd": "EMD", ".mrc": "MRC"}


def _dm_truncation(path: Path) -> None:
    """Compare the length the DM header declares with the file's length."""
    with path.open("rb") as handle:
        head = handle.read(16)
    if len(head) < 16:
        raise ImageLoadError(f"{path}: the file is too short to be a DigitalMicrograph file ({len(head)} bytes).")
    version = struct.unpack(">I", head[:4])[0]
    if version == 3:
        declared = struct.unpack(">I", head[4:8])[0] + 12
    elif version == 4:
        declared = struct.unpack(">Q", head[4:12])[0] + 16
    else:
        raise ImageLoadError(f"{path}: not a DigitalMicrograph DM3/DM4 file (version field {version}).")
    size = path.stat().st_size
    if size < declared:
        raise ImageLoadError(
            f"{path}: the DM{version} file is truncated ({size} of at least {declared} bytes); "
            "copy it again from the microscope computer."
        )


def _read_dm(path: Path, notes: list[str], check_size: SizeCheck) -> tuple[np.ndarray, Calibration | None]:
    _dm_truncation(path)
    from ncempy.io import dm

    name = "Gatan DM3" if path.suffix.lower() == ".dm3" else "Gatan DM4"
    with dm.fileDM(path) as handle:
        if handle.numObjects == 0 or not handle.dataType:
            raise ImageLoadError(f"{path}: the DigitalMicrograph file holds no image data (tags only).")
        # ncempy skips the thumbnail (the first data set) whenever there is more than one.
        index = 0 if handle.numObjects == 1 else 1
        images = handle.numObjects - index
        ndim = int(handle.dataShape[index])
        first = sum(int(n) for n in handle.dataShape[:index])
        dm_sizes = [handle.xSize[index], handle.ySize[index], handle.zSize[index], handle.zSize2[index]][:ndim]
        scales = [*handle.scale[first : first + ndim], *[1.0] * ndim][:ndim]  # uncalibrated axes: 1 px, no unit
        units = [*handle.scaleUnit[first : first + ndim], *[""] * ndim][:ndim]
        axes = [Axis(int(size), float(step), str(unit)) for size, step, unit in zip(dm_sizes, scales, units)][::-1]
        if int(handle.dataType[index]) == 23:
            raise ImageLoadError(f"{path}: the file holds an RGB picture, not microscope data; export it as TIFF.")
        row, column, frames = refuse_if_not_image(path, axes)
        check_size(axes[row].size, axes[column].size)
        if ndim <= 2:
            data = handle.getDataset(0)["data"]
        else:
            data = handle.getSlice(0, 0)["data"]
        data = np.asarray(data).reshape(axes[row].size, axes[column].size)
    note_frames(notes, frames)
    if images > 1:
        notes.append(f"The file holds {images} images; only the first is analysed.")
    return data, make_calibration(name, axes[row], axes[column], notes)


# ---------------------------------------------------------------- FEI TIA SER (+ EMI)


def _read_ser(path: Path, notes: list[str], check_size: SizeCheck) -> tuple[np.ndarray, Calibration | None]:
    from ncempy.io import ser

    class SerWithoutEmi(ser.fileSER):
        """The calibration is in the .ser; a missing or damaged .emi beside it must not matter."""

        def _read_emi(self) -> None:
            self._emi = None

    with SerWithoutEmi(path) as handle:
        head = handle.head
        frames = int(head["ValidNumberElements"])
        if frames < 1:
            raise ImageLoadError(f"{path}: the SER file holds no data (the acquisition stopped before the first frame).")
        try:
            data, meta = handle.getDataset(0)
        except ValueError as exc:  # a short read cannot be reshaped
            raise ImageLoadError(f"{path}: the SER file is truncated: its first frame is incomplete ({exc}).") from exc
        offsets = [*head["DataOffsetArray"][:frames], *head["TagOffsetArray"][:frames]]
    if head["DataTypeID"] == 0x4120:  # 1-D elements: spectra
        what = f"{frames} 1-D spectra" if frames > 1 else "a 1-D spectrum"
        raise ImageLoadError(f"{path}: the file holds {what} with {len(data)} channels, not an image.")
    if max(offsets) >= path.stat().st_size:
        notes.append("The SER file is truncated after its first frame (later frames or time stamps are missing).")
    width, height = (int(n) for n in meta["ArrayShape"])
    check_size(height, width)  # a SER frame is read whole; the check still refuses what is too large
    x_cal, y_cal = meta["Calibration"]
    note_frames(notes, frames)
    # TIA writes spatial calibrations in metres.
    row, column = Axis(height, float(y_cal["CalibrationDelta"]), "m"), Axis(width, float(x_cal["CalibrationDelta"]), "m")
    return data, make_calibration("FEI TIA SER", row, column, notes)


# ---------------------------------------------------------------- EMD (HDF5): Velox and Berkeley


def _read_emd(path: Path, notes: list[str], check_size: SizeCheck) -> tuple[np.ndarray, Calibration | None]:
    import h5py

    try:
        with h5py.File(path, "r") as probe:
            top = sorted(probe.keys())
            velox = "Data" in probe and isinstance(probe["Data"], h5py.Group)
            velox_kinds = sorted(probe["Data"].keys()) if velox else []
            velox_images = len(probe["Data/Image"]) if "Image" in velox_kinds else 0
            berkeley = "data" in probe or "version_major" in probe.attrs
    except OSError as exc:
        raise ImageLoadError(f"{path}: not a readable HDF5/EMD file; it is truncated or corrupt ({exc}).") from exc
    if velox:
        if not velox_images:
            raise ImageLoadError(f"{path}: the Velox file holds no image, only {', '.join(velox_kinds) or 'no data'}.")
        return _read_velox(path, notes, check_size)
    if berkeley:
        return _read_berkeley_emd(path, notes, check_size)
    raise ImageLoadError(f"{path}: an HDF5 file that is neither a Velox nor a Berkeley EMD file (groups: {', '.join(top)}).")


def _read_velox(path: Path, notes: list[str], check_size: SizeCheck) -> tuple[np.ndarray, Calibration | None]:
    from ncempy.io import emdVelox

    with emdVelox.fileEMDVelox(path) as handle:
        images = len(handle.list_data)
        dataset, meta = handle.get_dataset(0, memmap=True)  # Velox stores (rows, columns, frames)
        shape = dataset.shape if dataset.ndim == 3 else (*dataset.shape, 1)
        (step_x, step_y), (unit_x, unit_y) = meta["pixelSize"], meta["pixelUnit"]
        axes = [Axis(shape[2], None, ""), Axis(shape[0], float(step_y), unit_y), Axis(shape[1], float(step_x), unit_x)]
        _, _, frames = refuse_if_not_image(path, axes)
        check_size(shape[0], shape[1])
        data = np.asarray(dataset[:, :, 0] if dataset.ndim == 3 else dataset[:, :])
        detector = meta.get("detectorName", "")
    note_frames(notes, frames)
    if images > 1:
        notes.append(f"The file holds {images} images; only the first ({detector or 'first detector'}) is analysed.")
    return data, make_calibration("Thermo Fisher Velox EMD", axes[1], axes[2], notes)


def _read_berkeley_emd(path: Path, notes: list[str], check_size: SizeCheck) -> tuple[np.ndarray, Calibration | None]:
    from ncempy.io import emd

    with emd.fileEMD(path, readonly=True) as handle:
        groups = handle.list_emds
        group = groups[0]
        dims = handle.get_emddims(group)
        dataset = group["data"]
        axes = []
        for size, (vector, _name, unit) in zip(dataset.shape, dims):
            vector = np.asarray(vector, dtype=np.float64).ravel()
            step = float((vector[-1] - vector[0]) / (len(vector) - 1)) if len(vector) > 1 else None
            axes.append(Axis(int(size), step, str(unit)))
        row, column, frames = refuse_if_not_image(path, axes)
        check_size(axes[row].size, axes[column].size)
        index = tuple(slice(None) if i in (row, column) else 0 for i in range(dataset.ndim))
        data = np.asarray(dataset[index])
    note_frames(notes, frames)
    if len(groups) > 1:
        notes.append(f"The file holds {len(groups)} data sets; only the first ({group.name}) is analysed.")
    return data, make_calibration("Berkeley EMD", axes[row], axes[column], notes)


# ---------------------------------------------------------------- MRC


def _read_mrc(path: Path, notes: list[str], check_size: SizeCheck) -> tuple[np.ndarray, Calibration | None]:
    import mrcfile
    from mrcfile.utils import data_dtype_from_header, data_shape_from_header

    # Permissive: classic MRC files lack the MRC2014 "MAP " identifier; problems come back as warnings.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with mrcfile.open(path, mode="r", permissive=True, header_only=True) as mrc:
            header = mrc.header.copy()
            extended = int(mrc.header.nsymbt)
        shape = data_shape_from_header(header)
        dtype = data_dtype_from_header(header)
        needed = 1024 + extended + math.prod(shape) * dtype.itemsize
        if path.stat().st_size < needed:
            raise ImageLoadError(f"{path}: the MRC file is truncated ({path.stat().st_size} of {needed} bytes).")
        voxel = (float(header.cella.y) / max(int(header.my), 1), float(header.cella.x) / max(int(header.mx), 1))
        axes = [Axis(int(size), None, "") for size in shape[:-2]]
        axes += [Axis(int(shape[-2]), voxel[0], "A"), Axis(int(shape[-1]), voxel[1], "A")]
        _, _, frames = refuse_if_not_image(path, axes)
        check_size(shape[-2], shape[-1])
        with mrcfile.mmap(path, mode="r", permissive=True) as mrc:
            if mrc.data is None:
                problems = "; ".join(dict.fromkeys(str(w.message) for w in caught)) or "no data block"
                raise ImageLoadError(f"{path}: the MRC file is corrupt ({problems}).")
            first = np.array(mrc.data[(0,) * (mrc.data.ndim - 2)])
            what = "slices" if mrc.is_volume() else "frames"
    messages = [str(w.message) for w in caught if issubclass(w.category, (RuntimeWarning, UserWarning))]
    if bytes(header.map) != b"MAP ":  # a classic (pre-2014) MRC header: nothing the user must act on
        messages = [m for m in messages if "Map ID string" not in m]
    notes.extend(f"MRC header: {message}" for message in dict.fromkeys(messages))
    note_frames(notes, frames, what)
    if voxel == (0.0, 0.0):
        notes.append("The MRC header gives no pixel size; sizes are in pixels unless you calibrate the image.")
        return first, None
    return first, make_calibration("MRC header", axes[-2], axes[-1], notes)
