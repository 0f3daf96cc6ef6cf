"""`make bench`: latency, throughput, micro-benchmarks, cold start and SQL statement counts.

Run with `python -m tools.bench`; it prints a table and writes BENCHMARKS.md at the repo root.
Measuring only: nothing here changes how the service behaves.
"""
