"""Images in and their calibration: file formats and metadata, data bars, scale bars, profiles."""
