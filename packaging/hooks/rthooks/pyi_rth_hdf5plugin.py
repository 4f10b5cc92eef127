"""Runtime hook: hdf5plugin logs "Cannot initialize filter NAME: File not found" for each filter
library left out of the bundle (hooks/hook-hdf5plugin.py); drop those records, keep all others."""

import logging

_KEPT_FILTERS = ("lz4", "bzip2", "zstd")
_PREFIX = "Cannot initialize filter "


def _not_a_left_out_filter(record: logging.LogRecord) -> bool:
    message = record.getMessage()
    if not message.startswith(_PREFIX) or not message.endswith("File not found"):
        return True
    return message[len(_PREFIX):].split(":")[0].strip() in _KEPT_FILTERS


logging.getLogger("hdf5plugin._utils").addFilter(_not_a_left_out_filter)
