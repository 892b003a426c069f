"""The reporting benchmark: summary latency at national size (``make bench-report``)."""
