"""`python -m bench`: the measurement run (bench/run.py)."""

from .run import main

raise SystemExit(main())
