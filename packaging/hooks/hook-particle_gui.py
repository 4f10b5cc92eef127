"""PyInstaller hook for particle_gui: the imports PyInstaller cannot see, and the package data."""

from importlib.util import find_spec

from PyInstaller.utils.hooks import collect_data_files, collect_submodules

# particle_gui.gui is imported by name (cli._launch_gui); take every module of the package.
hiddenimports = collect_submodules("particle_gui")
# Imported inside functions, only when such a file is opened or a report is written.
hiddenimports += [
    "ncempy.io.dm", "ncempy.io.ser", "ncempy.io.emd", "ncempy.io.emdVelox",  # DM3/DM4, SER, EMD
    "h5py", "mrcfile", "mrcfile.utils",
    "matplotlib.backends.backend_agg", "matplotlib.backends.backend_pdf", "matplotlib.backends.backend_svg",
    "openpyxl",  # pandas' Excel writer, chosen by name
    "imagecodecs",  # tifffile's codecs for compressed TIFFs
]
if find_spec("onnxruntime") is not None:  # deep-learning segmentation (ONNX models in particle_gui/models)
    hiddenimports.append("onnxruntime")

# resources/*.png (the window icon) and models/*.onnx, wherever the package is.
datas = collect_data_files("particle_gui")
