"""Benchmarks for evoki_sql (not tests): synthetic history generation, throughput, scaling."""
