"""Kabar's benchmark suite: `python bench/run.py` (or `make bench`) runs every section in one go."""
