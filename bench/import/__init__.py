"""Bulk import benchmark: ``python -m bench.import.run`` (``make bench-import``)."""
