from particle_gui.cli import main

raise SystemExit(main())
