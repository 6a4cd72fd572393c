"""pytest plugin: every golden case is its own test item, for every kind of check.

    import pytest

    @pytest.mark.optgold(impl="mypkg.optim:FusedAdam", reference="adam", dtype="float32")
    def test_fused_adam(optgold_case):
        optgold_case.assert_passes()

``impl`` is an IMPL string or the class/factory itself; ``reference`` is any reference
of `optgold list`: an optimizer, a scheduler (``reference="cosine_annealing_lr"``, IMPL a
scheduler class) or an averaging (``reference="ema"``, IMPL AveragedModel or a factory).
Optional: ``dtype`` (default float64), ``modes`` (optimizers: default both), ``impl_args``
(dict), ``device``, ``golden_dir``, ``timeout`` and ``adapter``. Items are named
``test_fused_adam[<case>-<mode>-<dtype>]``. A case the implementation rejects with
NotImplementedError is reported as skipped.

``problem="cifar"`` (with ``cifar_dir`` optional) makes one item per CIFAR case of the
reference instead, in replay form, as ``optgold check --problem cifar``; ``timeout``
is then per step.
"""
import pytest

MARKER = "optgold"
OPTIONS = ("dtype", "device", "impl_args", "timeout", "adapter", "scenario", "golden_dir", "cifar_dir")


def pytest_configure(config):
    config.addinivalue_line("markers", f"{MARKER}(impl, reference, dtype='float64', modes=None, impl_args=None, "
                            "device='cpu', golden_dir=None, timeout=60, adapter='torch', scenario='plain', problem='quadratics', "
                            "cifar_dir=None): run the test once per golden case of the reference; the test takes "
                            "the `optgold_case` argument")


class GoldenCheck:
    """One case of one reference in one mode, run on first use."""

    def __init__(self, kind, factory, case, mode, options):
        self.kind, self.factory, self.case, self.mode, self.options = kind, factory, case, mode, options
        self._result = None

    @property
    def result(self):
        from optgold.check import check_case

        if self._result is None:
            self._result, _ = check_case(self.kind, self.factory, self.case, self.mode, self.options)
        return self._result

    def assert_passes(self):
        result = self.result
        if result.status == "skipped":
            pytest.skip(result.message)
        if result.status != "passed":
            pytest.fail(f"{self.case.reference}/{self.case.id} ({self.mode}, {result.dtype}): {result.message}",
                        pytrace=False)


def pytest_generate_tests(metafunc):
    marker = metafunc.definition.get_closest_marker(MARKER)
    if "optgold_case" not in metafunc.fixturenames:
        return
    if marker is None:
        raise pytest.UsageError(f"{metafunc.definition.nodeid} takes optgold_case but has no @pytest.mark.optgold")
    from optgold import external, kinds
    from optgold.check import Options, mode_label
    from optgold.loading import load_impl

    kwargs = dict(marker.kwargs)
    impl, ref_name = kwargs.pop("impl"), kwargs.pop("reference")
    problem, modes = kwargs.pop("problem", "quadratics"), kwargs.pop("modes", None)
    unknown = set(kwargs) - set(OPTIONS)
    if unknown:
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: unknown optgold marker arguments {sorted(unknown)}")
    ref_name = external.resolve(ref_name, kwargs.get("golden_dir"))
    kind = kinds.kind_of(ref_name, problem)
    options = Options(modes=tuple(modes) if modes else None, **kwargs)
    factory = load_impl(impl) if isinstance(impl, str) else impl
    checks, ids = [], []
    for case in kind.cases(ref_name, options):
        chosen = kind.modes(case, options) if modes is None else tuple(modes)
        for mode in chosen:
            reason = kind.not_applicable(case, mode, options)
            if reason and kind.NAME == "network":
                raise pytest.UsageError(f"{metafunc.definition.nodeid}: {reason}")
            checks.append(GoldenCheck(kind, factory, case, mode, options))
            ids.append(f"{case.id}-{mode_label(mode, options)}-{options.dtype}")
    metafunc.parametrize("optgold_case", checks, ids=ids)
