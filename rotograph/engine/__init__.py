"""Evaluation: the evaluator and its hashes, render plans and backends, the cache, proxies and multi-shot renders."""
