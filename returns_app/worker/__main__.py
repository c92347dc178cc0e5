"""`python -m returns_app.worker`: the worker's rounds (rounds.py)."""

from .rounds import main

raise SystemExit(main())
