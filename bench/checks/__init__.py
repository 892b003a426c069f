"""The checks benchmark: stored findings and tallies at national size (``make bench-checks``)."""
