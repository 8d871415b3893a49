"""Benchmarks: `python -m bench` (or `make bench`). Each prints its figures and a ratio against a floor
measured in the same run, and writes them as JSON under bench/results/."""
