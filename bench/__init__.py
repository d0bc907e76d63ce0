"""Benchmarks: `make bench` prints latency percentiles, throughput and ratios to a baseline."""
