"""pytest plugin: every golden case is its own test item, for every kind of check.

    import pytest

    @pytest.mark.optgold(impl="mypkg.optim:FusedAdam", reference="adam", dtype="float32")
    def test_fused_adam(optgold_case):
        optgold_case.assert_passes()

``impl`` is an IMPL string or the class/factory itself; ``reference`` is any reference
of `optgold list`: an optimizer, a scheduler (``reference="cosine_annealing_lr"``, IMPL a
scheduler class) or an averaging (``reference="ema"``, IMPL AveragedModel or a factory),
or a reference file (``reference="my_ref.py"``, with ``golden_dir``).
Optional: ``dtype`` (default float64), ``modes`` (optimizers: default both), ``impl_args``
(dict), ``device``, ``golden_dir``, ``timeout`` (seconds per case; default the kind's),
``budget`` (seconds for all the test's items together; default none), ``threads``,
``contracts`` ("all" by default, "none", or names as ``--contracts`` takes them) and
``adapter``. Items are named ``test_fused_adam[<case>-<mode>-<dtype>]``; a contract case's
is ``<contract>/<row>``, as ``resume/after_10``.
A case the implementation rejects with NotImplementedError is reported as skipped.

Relative paths (a ``file.py:Attr`` IMPL, a reference file, ``golden_dir``, ``cifar_dir``)
are read from the folder of the test file, not from where pytest was started.

The items of one case share its runs, as `optgold check` runs them: a free item is
diagnosed on the same case's replay run (run first if its item has not run), so its
message is the command line's.

A marker that cannot run (a bad argument, an unknown reference, an IMPL that does not
load, a corrupt golden) makes its test one failing item that says why, on one line;
collection and every other test go on.

``problem="cifar"`` (with ``cifar_dir`` optional) makes one item per CIFAR case of the
reference instead, in replay form, as ``optgold check --problem cifar``; ``timeout``
is then per step.

``pytest --optgold-report DIR`` writes the HTML report of `optgold check --report DIR`
(optgold.html_report) for every case that ran, one section per marked test; under
pytest-xdist the workers send their results to the controller, which writes it. Each
failing item with a diagnosis carries it, on one line, as the JUnit property
``optgold_diagnosis``, beside the failure message (which holds it too).
"""
import os
import time
from pathlib import Path

import pytest

MARKER = "optgold"
FIXTURE = "optgold_case"
OPTIONS = ("dtype", "master_weights", "rounding", "compensation", "inner_precision", "compile", "cases", "world_size",
           "sharding", "resume_world_size", "master_port", "device", "impl_args", "timeout", "budget", "threads",
           "adapter", "contracts", "golden_dir", "cifar_dir")
ARGUMENTS = ("impl", "reference", "problem", "modes") + OPTIONS
PATHS = ("golden_dir", "cifar_dir")  # read from the test file's folder when relative
PROBLEMS = ("quadratics", "cifar")
REPORT_OPTION = "--optgold-report"
PLANS = pytest.StashKey()  # the session's Plans, whose results the report draws
WORKER_REPORT = "optgold_report"  # a pytest-xdist worker's results, sent to the controller (html_report.data)


def pytest_addoption(parser):
    parser.getgroup("optgold").addoption(REPORT_OPTION, metavar="DIR", default=None,
                                         help="write the HTML report of every optgold case that ran to DIR "
                                         "(index.html, PNG figures, data.json), as optgold check --report does")


def pytest_configure(config):
    directory = config.getoption(REPORT_OPTION, None)
    if directory and not hasattr(config, "workerinput"):  # checked once, before anything runs
        from optgold.html_report import check_directory
        from optgold.reference.errors import UsageError

        try:
            check_directory(directory, REPORT_OPTION)
        except UsageError as error:
            raise pytest.UsageError(str(error)) from None
    config.stash[PLANS] = []
    config.stash[WORKER_REPORT] = []
    config.addinivalue_line("markers", f"{MARKER}(impl, reference, dtype='float64', modes=None, impl_args=None, "
                            "device='cpu', golden_dir=None, timeout=None, budget=None, threads=None, adapter=None, "
                            "cases=None, world_size=None, sharding='zero', resume_world_size=None, "
                            "contracts='all', problem='quadratics', cifar_dir=None): run the test once per golden "
                            f"case of the reference; the test takes the `{FIXTURE}` argument")


class Plan:
    """What one marked test checks, resolved once at collection and shared by its items."""

    def __init__(self, kind, factory, options, impl="", ref_name=""):
        self.kind, self.factory, self.options = kind, factory, options
        self.impl, self.ref_name = impl, ref_name  # as the report names them
        self.results = []  # each CaseResult, as it is judged
        self._deadline = None

    def check_report(self):
        """The CheckReport of the cases run so far (the pytest session's report draws it)."""
        from optgold.check import CheckReport, settings

        return CheckReport(self.ref_name, self.impl, list(self.results), kind=self.kind.NAME,
                           extra=self.kind.report_extra(self.options),
                           settings=settings(self.impl, self.ref_name, self.kind, self.options))

    def deadline(self):
        """The budget is for the test's items together: it starts with the first of them to run."""
        if self.options.budget is None:
            return None
        if self._deadline is None:
            self._deadline = time.monotonic() + self.options.budget
        return self._deadline


class CaseRuns:
    """The runs of one case for one marked test, shared by its items.

    A mode runs after the modes before it, and is given their runs, as `optgold check`
    runs a case: a free run is then diagnosed on the replay run, and says what the
    command line says. Each mode runs once, whichever item asks first."""

    def __init__(self, plan, case, modes):
        self.plan, self.case, self.modes = plan, case, modes
        self._results, self._runs = {}, {}

    def result(self, mode):
        from optgold.check import check_case

        plan = self.plan
        for needed in self.modes[:self.modes.index(mode) + 1]:
            if needed not in self._results:
                result, run = check_case(plan.kind, plan.factory, self.case, needed, plan.options, dict(self._runs),
                                         plan.deadline())
                self._results[needed], self._runs[needed] = result, run
                plan.results.append(result)
        if len(self._results) == len(self.modes):
            self._runs.clear()  # every mode has run: no later one needs them
        return self._results[mode]


class GoldenCheck:
    """One case of one reference in one mode, run on first use."""

    def __init__(self, runs, mode):
        self.runs, self.mode, self.case = runs, mode, runs.case
        self.kind, self.factory, self.options = runs.plan.kind, runs.plan.factory, runs.plan.options
        self._result = None

    @property
    def result(self):
        from optgold.reference.errors import UsageError

        if self._result is None:
            try:
                self._result = self.runs.result(self.mode)
            except UsageError as error:  # a golden or a setting at fault: said as the command line says it
                pytest.fail(one_line(error), pytrace=False)
        return self._result

    def assert_passes(self):
        result = self.result
        if result.status == "skipped":
            pytest.skip(result.message)
        if result.status != "passed":
            pytest.fail(f"{self.case.reference}/{self.case.id} ({result.mode}, {result.dtype}): {result.message}",
                        pytrace=False)


class MarkerError:
    """Stands in for the cases of a test whose marker cannot run: its one item fails, saying why."""

    def __init__(self, message):
        self.message = message

    @property
    def result(self):
        pytest.fail(self.message, pytrace=False)

    def assert_passes(self):
        pytest.fail(self.message, pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing case's diagnosis, on one line, as the JUnit property optgold_diagnosis (junitxml writes
    the item's properties with its teardown report)."""
    outcome = yield
    if call.when != "call" or not outcome.get_result().failed:
        return
    case = getattr(item, "funcargs", {}).get(FIXTURE)
    result = getattr(case, "_result", None)
    if result is not None and result.diagnosis is not None:
        item.user_properties.append(("optgold_diagnosis", one_line(result.diagnosis.describe())))


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """pytest-xdist's controller: a worker's results, kept for the report."""
    sent = getattr(node, "workeroutput", {}).get(WORKER_REPORT)
    if sent:
        import json

        node.config.stash[WORKER_REPORT].extend(json.loads(sent))


def pytest_sessionfinish(session):
    config = session.config
    directory = config.getoption(REPORT_OPTION, None)
    if not directory:
        return
    import json

    from optgold import html_report

    mine = [plan.check_report() for plan in config.stash[PLANS] if plan.results]
    if hasattr(config, "workerinput"):  # an xdist worker: the controller writes the one report
        config.workeroutput[WORKER_REPORT] = json.dumps(html_report.data(mine))
        return
    reports = _merged(mine + html_report.reports_of(config.stash[WORKER_REPORT]))
    if not reports:
        return
    index = html_report.write(reports, directory, title="pytest session", option=REPORT_OPTION)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"optgold report: {index}")


def _merged(reports):
    """One CheckReport per check (the same command line), its cases from every worker in the order run."""
    from optgold.report import command_line

    merged = {}
    for check_report in reports:
        key = command_line(check_report)
        if key in merged:
            merged[key].cases.extend(check_report.cases)
        else:
            merged[key] = check_report
    return list(merged.values())


def one_line(error):
    return " ".join(str(error).split())


def pytest_generate_tests(metafunc):
    if FIXTURE not in metafunc.fixturenames:
        return
    from optgold.reference.errors import UsageError

    try:
        checks, ids = _checks(metafunc)
    except (UsageError, OSError) as error:  # not a crash of the session: this test fails, the others run
        checks, ids = [MarkerError(one_line(error))], ["usage-error"]
    metafunc.parametrize(FIXTURE, checks, ids=ids)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """A test whose marker cannot run fails before its body, whatever the body does with the case."""
    case = pyfuncitem.funcargs.get(FIXTURE)
    if isinstance(case, MarkerError):
        case.assert_passes()


def _checks(metafunc):
    """(GoldenCheck per case and mode, their ids); a UsageError if the marker cannot run."""
    from optgold.reference.errors import UsageError

    marker = metafunc.definition.get_closest_marker(MARKER)
    if marker is None:
        raise UsageError(f"the test takes {FIXTURE} but has no @pytest.mark.{MARKER}(impl=..., reference=...)")
    plan, ref_name = plan_of(marker, metafunc.definition.path.parent)
    metafunc.config.stash[PLANS].append(plan)
    kind, options = plan.kind, plan.options
    checks, ids = [], []
    from optgold.check import selected_cases

    for case in selected_cases(kind.cases(ref_name, options), options.cases):
        modes = kind.modes(case, options)
        runs = CaseRuns(plan, case, modes)
        for mode in modes:
            checks.append(GoldenCheck(runs, mode))
            ids.append(f"{case.id}-{mode}-{options.dtype}"
                       + (f"-{options.sharding}{options.world_size}" if options.world_size else ""))
    return checks, ids


def plan_of(marker, base):
    """(Plan, reference name) of a marker on a test in folder ``base``, checked as `optgold check` checks
    its arguments; a UsageError (one line) says what is wrong."""
    from optgold import external, kinds
    from optgold.check import Options, validate, with_adapter
    from optgold.loading import load_impl

    kwargs = _arguments(marker)
    impl = _impl(kwargs.get("impl"), base)
    reference = _reference(kwargs.get("reference"), base)
    problem = _problem(kwargs.get("problem"))
    fields = {name: kwargs[name] for name in OPTIONS if kwargs.get(name) is not None}  # None: the default
    for name in PATHS:
        if name in fields:
            fields[name] = _path(name, fields[name], base)
    if isinstance(fields.get("cases"), str):  # "a,b" as on the command line
        fields["cases"] = tuple(fields["cases"].split(","))
    options = Options(modes=_modes(kwargs.get("modes")), **fields)
    if external.is_path(reference) and options.golden_dir is None:
        raise _usage(f"reference {reference!r} is a file: a reference from outside optgold needs golden_dir=..., "
                     f"the folder of its goldens (`optgold generate --reference {reference} --golden-dir DIR` "
                     "makes them)")
    ref_name = external.resolve(reference, options.golden_dir)
    kind = kinds.kind_of(ref_name, problem)
    if ref_name not in kind.references():
        raise _usage(f"problem={problem!r} has no run of {ref_name!r}; it has {', '.join(sorted(kind.references()))}")
    factory = load_impl(impl) if isinstance(impl, str) else impl
    options = with_adapter(options, factory)
    validate(options, kind)
    label = impl if isinstance(impl, str) else getattr(impl, "__qualname__", repr(impl))
    return Plan(kind, factory, options, str(label), ref_name), ref_name


def _usage(message):
    from optgold.reference.errors import UsageError

    return UsageError(f"@pytest.mark.{MARKER}: {message}")


def _arguments(marker):
    if marker.args:
        raise _usage(f"takes keyword arguments only (impl=..., reference=...), not {len(marker.args)} positional")
    unknown = sorted(set(marker.kwargs) - set(ARGUMENTS))
    if unknown:
        raise _usage(f"unknown argument{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; it takes "
                     f"{', '.join(ARGUMENTS)}")
    return dict(marker.kwargs)


def _impl(impl, base):
    """An IMPL string, with a file's path read from ``base``, or the class/factory as it is."""
    if impl is None:
        raise _usage("impl is missing: give impl='package.module:Attr', 'path/to/file.py:Attr' or the class itself")
    if isinstance(impl, str):
        module, sep, attr = impl.rpartition(":")
        if sep and module.endswith(".py"):
            return f"{_relative_to(base, module)}:{attr}"
        return impl
    if not callable(impl):
        raise _usage(f"impl {impl!r} is a {type(impl).__name__}: give an IMPL string ('package.module:Attr' or "
                     "'path/to/file.py:Attr') or the class or factory itself")
    return impl


def _reference(reference, base):
    """A reference name as it is; a reference file's path read from ``base``."""
    from optgold import external

    if reference is None:
        raise _usage("reference is missing: give reference='<name>' (see `optgold list`) or 'path/to/my_ref.py'")
    if isinstance(reference, os.PathLike):
        reference = os.fspath(reference)
    if not isinstance(reference, str):
        raise _usage(f"reference {reference!r} is a {type(reference).__name__}: give a name (see `optgold list`) "
                     "or the path of a reference file")
    return str(_relative_to(base, reference)) if external.is_path(reference) else reference


def _problem(problem):
    if problem is None:
        return PROBLEMS[0]
    if problem not in PROBLEMS:
        raise _usage(f"problem {problem!r} is not one of {', '.join(PROBLEMS)}")
    return problem


def _modes(modes):
    """The marker's modes as a tuple, each once; a single mode may be given as a string."""
    if modes is None:
        return None
    if isinstance(modes, str):
        modes = (modes,)
    if not isinstance(modes, (tuple, list)) or not all(isinstance(m, str) for m in modes):
        raise _usage(f"modes {modes!r} must be a tuple of mode names, such as ('replay',)")
    return tuple(dict.fromkeys(modes))


def _path(name, value, base):
    if not isinstance(value, (str, os.PathLike)):
        raise _usage(f"{name} {value!r} is a {type(value).__name__}: give a folder's path")
    return str(_relative_to(base, value))


def _relative_to(base, path):
    """A relative path means the test file's folder, wherever pytest was started from."""
    path = Path(path)
    return path if path.is_absolute() else Path(base) / path
