"""One CIFAR check: an implementation against every CIFAR case of a reference."""
from dataclasses import dataclass

from optgold.golden.cifar import data as cifar_data
from optgold.golden.cifar import load
from optgold.check import CheckReport
from optgold.cifar.free_run import free_run
from optgold.cifar.replay import run_case


@dataclass
class CifarReport(CheckReport):
    data: str = ""  # how the data is named in every report: synthetic or CIFAR-10 from a folder

    def as_json(self):
        return {**super().as_json(), "problem": "cifar", "data": self.data}


def check(factory, ref_name, impl="", dtype="float64", device="cpu", impl_args=None, golden_dir=None,
          cifar_dir=None, timeout=60.0, stop_at_divergence=False, steps=None, progress=None, free=False,
          free_progress=None):
    """Every CIFAR case of ``ref_name``, on the data of ``cifar_dir`` (else $OPTGOLD_CIFAR_DIR, else synthetic).

    ``free`` also trains IMPL on its own gradients for each case (free_run.py): shown, not judged."""
    data = cifar_data.load(cifar_dir)
    cases = load.load_cases(ref_name, load.golden_dir(golden_dir, data.name), data)
    results = []
    for case in cases:
        result = run_case(factory, case, data, dtype, device, impl_args, timeout, stop_at_divergence, steps, progress)
        if free and result.status != "skipped":
            result.free_run = free_run(factory, case, data, dtype, device, impl_args, timeout, free_progress)
        results.append(result)
    return CifarReport(ref_name, impl, results, data=data.description)
