"""``python -m workloadlab``: the command line."""

from workloadlab.cli import main

raise SystemExit(main())
