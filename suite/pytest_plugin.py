"""pytest plugin: every golden case is its own test item.

    import pytest

    @pytest.mark.optgold(impl="mypkg.optim:FusedAdam", reference="adam", dtype="float32")
    def test_fused_adam(optgold_case):
        optgold_case.assert_passes()

``impl`` is an IMPL string or the class/factory itself. Optional: ``dtype``
(default float64), ``modes`` (default both), ``impl_args`` (dict), ``device``,
``golden_dir`` and ``timeout``. Items are named ``test_fused_adam[<case>-<mode>-<dtype>]``.
A case the implementation rejects with NotImplementedError is reported as skipped.

``problem="cifar"`` (with ``cifar_dir`` optional) makes one item per CIFAR case of the
reference instead, in replay form, as ``optgold check --problem cifar``; ``timeout``
is then per step.
"""
import pytest

MARKER = "optgold"


def pytest_configure(config):
    config.addinivalue_line("markers", f"{MARKER}(impl, reference, dtype='float64', modes=('free', 'replay'), "
                            "impl_args=None, device='cpu', golden_dir=None, timeout=60, problem='quadratics', cifar_dir=None): "
                            "run the test once per golden case of the reference; the test takes the `optgold_case` "
                            "argument")


class GoldenCheck:
    """One case of one reference in one mode, run on first use."""

    def __init__(self, factory, case, mode, options):
        self.factory, self.case, self.mode, self.options = factory, case, mode, options
        self._result = None

    @property
    def result(self):
        from optgold.check import check_case

        if self._result is None:
            self._result, _ = check_case(self.factory, self.case, self.mode, **self.options)
        return self._result

    def assert_passes(self):
        result = self.result
        case = self.case
        if result.status == "skipped":
            pytest.skip(result.message)
        if result.status != "passed":
            pytest.fail(f"{case.reference}/{case.id} ({self.mode}, {result.dtype}): {result.message}", pytrace=False)


class CifarCheck(GoldenCheck):
    """One CIFAR case, in replay form, run on first use."""

    def __init__(self, factory, case, data, options):
        super().__init__(factory, case, "replay", options)
        self.data = data

    @property
    def result(self):
        from optgold.cifar.replay import run_case

        if self._result is None:
            self._result = run_case(self.factory, self.case, self.data, **self.options)
        return self._result


def _cifar_checks(factory, ref_name, golden_dir, cifar_dir, options):
    from optgold.golden.cifar import data as cifar_data
    from optgold.golden.cifar import load

    data = cifar_data.load(cifar_dir)
    cases = load.load_cases(ref_name, load.golden_dir(golden_dir, data.name), data)
    return [CifarCheck(factory, case, data, options) for case in cases], [f"{c.id}-replay-{options['dtype']}"
                                                                         for c in cases]


def pytest_generate_tests(metafunc):
    marker = metafunc.definition.get_closest_marker(MARKER)
    if "optgold_case" not in metafunc.fixturenames:
        return
    if marker is None:
        raise pytest.UsageError(f"{metafunc.definition.nodeid} takes optgold_case but has no @pytest.mark.optgold")
    from optgold.golden.load import load_cases
    from optgold.loading import load_impl

    kwargs = dict(marker.kwargs)
    impl, ref_name = kwargs.pop("impl"), kwargs.pop("reference")
    factory = load_impl(impl) if isinstance(impl, str) else impl
    modes = kwargs.pop("modes", ("replay", "free"))
    golden_dir = kwargs.pop("golden_dir", None)
    problem, cifar_dir = kwargs.pop("problem", "quadratics"), kwargs.pop("cifar_dir", None)
    options = {"dtype": "float64", **kwargs}
    if problem == "cifar":
        if "modes" in marker.kwargs and "free" in modes:
            raise pytest.UsageError(f"{metafunc.definition.nodeid}: CIFAR cases run in replay form only")
        checks, ids = _cifar_checks(factory, ref_name, golden_dir, cifar_dir, options)
        metafunc.parametrize("optgold_case", checks, ids=ids)
        return
    checks, ids = [], []
    for case in load_cases(ref_name, golden_dir):
        for mode in modes:
            checks.append(GoldenCheck(factory, case, mode, options))
            ids.append(f"{case.id}-{mode}-{options['dtype']}")
    metafunc.parametrize("optgold_case", checks, ids=ids)
