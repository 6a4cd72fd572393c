"""pytest plugin: every golden case is its own test item.

    import pytest

    @pytest.mark.optgold(impl="mypkg.optim:FusedAdam", reference="adam", dtype="float32")
    def test_fused_adam(optgold_case):
        optgold_case.assert_passes()

``impl`` is an IMPL string or the class/factory itself. Optional: ``dtype``
(default float64), ``modes`` (default both), ``impl_args`` (dict), ``device``,
``golden_dir`` and ``timeout``. Items are named ``test_fused_adam[<case>-<mode>-<dtype>]``.
A case the implementation rejects with NotImplementedError is reported as skipped.
"""
import pytest

MARKER = "optgold"


def pytest_configure(config):
    config.addinivalue_line("markers", f"{MARKER}(impl, reference, dtype='float64', modes=('free', 'replay'), "
                            "impl_args=None, device='cpu', golden_dir=None, timeout=60): run the test once per "
                            "golden case of the reference; the test takes the `optgold_case` argument")


class GoldenCheck:
    """One case of one reference in one mode, run on first use."""

    def __init__(self, factory, case, mode, options):
        self.factory, self.case, self.mode, self.options = factory, case, mode, options
        self._result = None

    @property
    def result(self):
        from suite.check import check_case

        if self._result is None:
            self._result, _ = check_case(self.factory, self.case, self.mode, **self.options)
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
    from golden.load import load_cases
    from suite.loading import load_impl

    kwargs = dict(marker.kwargs)
    impl, ref_name = kwargs.pop("impl"), kwargs.pop("reference")
    factory = load_impl(impl) if isinstance(impl, str) else impl
    modes = kwargs.pop("modes", ("replay", "free"))
    golden_dir = kwargs.pop("golden_dir", None)
    options = {"dtype": "float64", **kwargs}
    checks, ids = [], []
    for case in load_cases(ref_name, golden_dir):
        for mode in modes:
            checks.append(GoldenCheck(factory, case, mode, options))
            ids.append(f"{case.id}-{mode}-{options['dtype']}")
    metafunc.parametrize("optgold_case", checks, ids=ids)
