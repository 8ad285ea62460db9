"""OpenPCF benchmarks: run ``python -m bench.run`` from the repository root."""
