"""Developer scripts about the correctness check: tolerance calibration and check/grid/CIFAR timing.

Run as ``python -m optgold.devtools.<name>``. The speed product (optgold bench) lives in optgold.bench.
"""
