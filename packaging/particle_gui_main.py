"""Entry point of the frozen app: ``ParticleGUI [IMAGE]`` opens the window,
``ParticleGUI analyze|report ...`` runs the command line (see particle_gui.cli)."""

import multiprocessing

from particle_gui.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a worker process started by a library re-enters here
    raise SystemExit(main())
