"""Runtime hook: a windowed executable on Windows starts with ``sys.stdout``/``sys.stderr`` set to
None; libraries that write progress or warnings (tqdm, logging) would then fail. Give them a sink."""

import os
import sys

for _name in ("stdout", "stderr"):
    if getattr(sys, _name) is None:
        setattr(sys, _name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 (lives as long as the app)
