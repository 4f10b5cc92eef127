"""hdf5plugin with the lossless HDF5 filters LZ4, bzip2 and Zstandard only (11 MB of its 185 MB).

ncempy imports hdf5plugin whenever it is imported (``ncempy.io.dectris``), so the package must be
there. The EMD files particle_gui opens (Velox, Berkeley) are uncompressed or use gzip/LZF, which
h5py itself reads; the other filters (Blosc, Blosc2, bitshuffle, SZ, SZ3, SPERR, ZFP, FCIDECOMP,
HTJ2K) compress detector and simulation data and are left out. ``rthooks/pyi_rth_hdf5plugin.py``
keeps hdf5plugin from logging an error for each left-out filter at start-up.
"""

from pathlib import Path

from PyInstaller.utils.hooks import collect_dynamic_libs

KEPT_FILTERS = ("lz4", "bzip2", "zstd")  # keep in step with rthooks/pyi_rth_hdf5plugin.py

binaries = [(source, dest) for source, dest in collect_dynamic_libs("hdf5plugin")
            if Path(source).name.split(".")[0] in {f"libh5{name}" for name in KEPT_FILTERS}]
