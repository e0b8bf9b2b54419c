"""The benchmarks (make bench): each module runs on its own, bench/run.py runs them all."""
