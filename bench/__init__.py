"""Benchmarks and the attack suite they (and the tests) share."""
