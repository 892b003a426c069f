"""Benchmarks that run the whole system (``make bench-*``)."""
