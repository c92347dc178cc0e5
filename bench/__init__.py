"""The load benchmark: a realistic database generator (generate.py) and the runner (run.py)."""
