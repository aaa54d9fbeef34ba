"""Benchmark tooling: synthetic HES extract generator, DuckDB peer and benchmark runner."""
