"""Runtime hook: stand-ins for ``PySide6.QtOpenGL`` and ``PySide6.QtOpenGLWidgets``, which the
bundle leaves out (11 MB on Windows: QtOpenGL.pyd, Qt6OpenGL.dll, Qt6OpenGLWidgets.dll).

pyqtgraph imports both when it is imported, for its OpenGL image widget and OpenGL viewports; the
app never uses them (pyqtgraph's OpenGL mode is off; images are drawn by Qt's raster engine). The
stand-ins are made only when something imports them: ``QOpenGLWidget`` is a plain ``QWidget`` (a
class pyqtgraph can subclass at import), and any other name raises an ImportError that says why.
"""

import importlib.abc
import importlib.machinery
import sys

_STAND_INS = ("PySide6.QtOpenGL", "PySide6.QtOpenGLWidgets")


def _missing(module_name):
    def __getattr__(name):
        raise ImportError(f"{module_name}.{name}: Qt's OpenGL modules are not part of this app's bundle")

    return __getattr__


class _OpenGLStandInLoader(importlib.abc.Loader):
    def create_module(self, spec):
        return None  # the default module object

    def exec_module(self, module):
        if module.__name__ == "PySide6.QtOpenGLWidgets":
            from PySide6 import QtWidgets

            module.QOpenGLWidget = QtWidgets.QWidget
        module.__getattr__ = _missing(module.__name__)


class _OpenGLStandInFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname not in _STAND_INS:
            return None
        return importlib.machinery.ModuleSpec(fullname, _OpenGLStandInLoader())


sys.meta_path.append(_OpenGLStandInFinder())  # last: a real module, where one exists, wins
