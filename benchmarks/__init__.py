"""Benchmarks of the engine against an idiomatic per-agent Mesa baseline (run on demand)."""
