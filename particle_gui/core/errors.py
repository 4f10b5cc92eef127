"""The engine's own exceptions: every failure a user can cause is one of these."""


class ParticleGuiError(Exception):
    """Base class for errors the engine reports to the user in plain words."""


class ImageLoadError(ParticleGuiError):
    """The file is missing, empty, truncated, not an image, or holds no 2-D image."""


class ImageTooLargeError(ImageLoadError):
    """The image is larger than the engine processes in memory."""


class ParamsError(ParticleGuiError):
    """A parameter file or value is invalid."""


class CalibrationError(ParticleGuiError):
    """A length or pixel size could not be understood or is not physical."""


class ExportError(ParticleGuiError):
    """A result file could not be written."""


class CancelledError(ParticleGuiError):
    """A pipeline run was cancelled at a stage boundary."""


class ShapeModelError(ParticleGuiError):
    """The shape classifier model is missing or unreadable, or onnxruntime is not installed."""
