"""Benchmarks of Tandem's event pipeline: `python -m bench <name>`."""
