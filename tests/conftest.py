"""Under pytest-xdist (`pytest -n auto`), split the machine's cores between the workers.

Each worker is a process with torch's own thread pool; two workers that both use every
core spin against each other and run slower than one. No test asserts on timing.
"""
import os

import torch


def pytest_configure(config):
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))
