"""``python -m particle_gui``: the command line, as the ``particle-gui`` script runs it."""

from particle_gui.cli import main

raise SystemExit(main())
