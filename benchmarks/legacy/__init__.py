"""Frozen copies of earlier implementations, kept only so that the benchmarks can measure the
current code against them in the same run (never imported by the package)."""
