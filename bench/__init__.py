"""Benchmarks of Holdless's queueing science, run from the repository root (`python -m bench.…`)."""
