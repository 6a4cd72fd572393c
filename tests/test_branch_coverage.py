"""The golden grid takes every branch of every optimizer reference both ways.

The grid's golden trajectories (variant "torch", in float, as golden/generate.py computes
them; the rounding-drift reruns and the mpmath certificate are left out) run under
coverage.py with branch=True, restricted to the optimizer modules reference/<name>.py:
step, init_state and the helpers they call there. Not measured: arith.py (its array
branch serves the CIFAR lanes' numpy numbers), problems, linalg, trajectory, schedulers.
coverage.py sees statement branches only (if, while, for): a conditional expression
``a if c else b`` and the short-circuit of ``and``/``or`` are not measured.

Two kinds of branch may be missed by the grid:
- a variant side: a condition that variant "torch" forces (``if variant == "x"``, or a
  conjunct such as ``... and variant == "x"``, or a local bound from variant alone) can
  only go one way in the grid; diagnosis crosses the other. The test finds these from
  the source and proves that some named variant, run along the grid's cases, takes them;
- EXCEPTIONS, each with its reason, keyed by file, the branch line's text (so that edits
  elsewhere in the file do not move them) and the side the grid misses (True: into the
  body). An exception the grid now crosses fails the test, so the list stays true.
"""
import ast
import json
import pathlib

import coverage  # the test extra pins it: a missing coverage must fail here, not skip
import pytest

from optgold import reference
from optgold.golden import contracts
from optgold.golden.grid import GRID
from optgold.reference import problems, trajectory

VARIANT_STEPS = 12  # enough for every variant side (RAdam rectifies from step 6 at beta2 = 0.999)

LOW_PRECISION_STORE = ("taken only when a low-precision run is walked with its stores rounded (optgold.storage_drift), "
                       "which no golden is; tests/test_low_precision.py takes it for the torch paths of these algorithms")
EXCEPTIONS = {
    ("lbfgs.py", "while n_iter < max_iter:", False):
        "the loop leaves by its break at n_iter == max_iter before the condition is tested again; only "
        "max_iter = 0 would end it here, and then neither this nor torch's LBFGS iterates",
    ("lbfgs.py", "if line_search_fn != \"strong_wolfe\":", True):
        "defensive: raises for an unknown line search, as torch does; a golden case cannot raise",
    ("lbfgs.py", "if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:", True):
        "the zoom stops on a bracket narrower than 1e-9 / max|d| (torch passes the line search its default "
        "tolerance_change): its trials then differ by less than float32 resolves, so a float32 run decides "
        "them otherwise; the cases found that reach it (noisy gradients, lr 1 to 200) all do",
    ("lbfgs.py", "if abs(t - max(bracket)) < abs(t - min(bracket)):", True):
        "the move down from the bracket's larger end: with a loss and gradient that agree, the cubic's "
        "minimizer lies inside the bracket, so it takes two trials in a row within 0.1 of that end, the "
        "second after a swap made it the low end; none of a few thousand random strong Wolfe "
        "configurations (lr 0.01 to 1e4, 2 to 30 steps, the quadratic, noisy and Rosenbrock problems) "
        "reached it. Its mirror, the move up from the smaller end, is crossed (wolfe_far_trial_rosenbrock) "
        "and its mutant (LBFGSZoomMovesFromWrongEnd) caught",
    ("adafactor.py", "if store:  # a low-precision run keeps the decayed parameter (trajectory.run)", True): LOW_PRECISION_STORE,
    ("adam.py", "if store:  # a low-precision run keeps the decayed parameter (trajectory.run)", True): LOW_PRECISION_STORE,
    ("asgd.py", "if store:  # a low-precision run keeps the decayed parameter (trajectory.run)", True): LOW_PRECISION_STORE,
    ("lion.py", "if store:  # a low-precision run keeps the decayed parameter (trajectory.run)", True): LOW_PRECISION_STORE,
    ("radam.py", "if store:  # a low-precision run keeps the decayed parameter (trajectory.run)", True): LOW_PRECISION_STORE,
    ("nadam.py", "if store:  # a low-precision run keeps the decayed parameter (trajectory.run)", True): LOW_PRECISION_STORE,
    ("nadam.py", "if store:  # torch adds the two terms one at a time: a low-precision run keeps the first sum", True): LOW_PRECISION_STORE,
    ("muon.py", "if adjust_lr_fn == \"match_rms_adamw\":", False):
        "defensive: torch.optim.Muon refuses any adjust_lr_fn but None, \"original\" and \"match_rms_adamw\" "
        "at construction, so the fall-through (ratio 1) is never a valid configuration",
}


def optimizer_files():
    return {name: pathlib.Path(module.__file__) for name, module in reference.OPTIMIZERS.items()}


def trace(run_all):
    """(the Coverage, {file name: arcs taken}) of run_all(), over the files of every optimizer."""
    files = optimizer_files()
    cov = coverage.Coverage(branch=True, data_file=None, include=[str(f) for f in files.values()])
    cov.start()
    try:
        run_all()
    finally:
        cov.stop()
    data = cov.get_data()
    taken = {path.name: set(data.arcs(str(path)) or ()) for path in files.values()}
    return cov, taken


def missing_branches(cov, tmp_path):
    """{file name: {(line, destination) of a branch not taken}}, from coverage's JSON report."""
    report = tmp_path / "coverage.json"
    cov.json_report(outfile=str(report))
    found = {}
    for path, entry in json.loads(report.read_text())["files"].items():
        for start, end in entry["missing_branches"]:
            found.setdefault(pathlib.Path(path).name, set()).add((start, end))
    return found


def run_cases(variant="torch", steps=None):
    def run_all():
        for name, cases in GRID.items():
            module = reference.get(name)
            variants = [variant] if variant else [v for v in module.VARIANTS if v != "torch"]
            for v in variants:
                for case in cases + (contracts.grid(name) if v == "torch" else []):  # the contract goldens too
                    try:
                        trajectory.run(module, problems.get(case.problem, case.negate), case.hp,
                                       min(case.steps, steps or case.steps), variant=v,
                                       groups=[dict(g) for g in case.groups] or None, schedule=case.schedule,
                                       events=case.events)
                    except ArithmeticError:
                        if variant == "torch":
                            raise
                        # a variant may diverge (LBFGS's unscaled first step of lr 30); its branches so far count
    return run_all


class _Forced:
    """For each if/while of a module: the first line of its True side, and the side variant "torch"
    forces, where it forces one."""

    def __init__(self, source):
        self.true_line = {}  # line -> first line of the True side
        self.sides = {}  # line -> (forced value, first line of the True side)
        for function in ast.walk(ast.parse(source)):
            if isinstance(function, ast.FunctionDef):
                self._function(function)

    def _function(self, function):
        # a local bound once, from variant alone: its value under variant "torch"
        bound = {}  # name -> its assigned expressions (None: bound otherwise, by a loop, +=, unpacking)
        for node in ast.walk(function):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    for name in ast.walk(target):
                        if isinstance(name, ast.Name):
                            bound.setdefault(name.id, []).append(node.value if target is name else None)
            elif isinstance(node, (ast.AugAssign, ast.For)):
                for name in ast.walk(node.target):
                    if isinstance(name, ast.Name):
                        bound.setdefault(name.id, []).append(None)
        env, grown = {"variant": "torch"}, True
        while grown:
            grown = False
            for name, values in bound.items():
                if name not in env and len(values) == 1 and values[0] is not None and self._pure(values[0], env):
                    env[name], grown = self._eval(values[0], env), True
        for node in ast.walk(function):
            if isinstance(node, (ast.If, ast.While, ast.For)):
                self.true_line[node.lineno] = node.body[0].lineno
            if isinstance(node, (ast.If, ast.While)):
                forced = self._forced(node.test, env)
                if forced is not None:
                    self.sides[node.lineno] = (forced, node.body[0].lineno)

    @staticmethod
    def _pure(expr, env):
        names = {n.id for n in ast.walk(expr) if isinstance(n, ast.Name)}
        return bool(names) and names <= set(env)

    @staticmethod
    def _eval(expr, env):
        return eval(compile(ast.Expression(expr), "<condition>", "eval"), {}, dict(env))

    def _forced(self, expr, env):
        if self._pure(expr, env):
            return bool(self._eval(expr, env))
        if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not):
            inner = self._forced(expr.operand, env)
            return None if inner is None else not inner
        if isinstance(expr, ast.BoolOp):
            parts = [self._forced(v, env) for v in expr.values]
            absorbing = isinstance(expr.op, ast.Or)  # True absorbs an or, False an and
            if absorbing in parts:
                return absorbing
        return None

    def side(self, start, end):
        """True for the arc into the body, False for the other."""
        return end == self.true_line[start]

    def variant_side(self, start, end):
        """Is start -> end the side that variant "torch" never takes?"""
        if start not in self.sides:
            return False
        forced, true_line = self.sides[start]
        return (end == true_line) != forced


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    cov, _ = trace(run_cases())
    missed = missing_branches(cov, tmp_path_factory.mktemp("grid"))
    _, variant_taken = trace(run_cases(variant=None, steps=VARIANT_STEPS))
    return missed, variant_taken


def line_text(file, line):
    return optimizer_files_by_name()[file].read_text().splitlines()[line - 1].strip()


def optimizer_files_by_name():
    return {path.name: path for path in optimizer_files().values()}


def test_every_branch_is_taken_both_ways(measured):
    missed, variant_taken = measured
    unexplained, unreached_variant_sides = [], []
    for file, arcs in sorted(missed.items()):
        forced = _Forced(optimizer_files_by_name()[file].read_text())
        for start, end in sorted(arcs):
            where = f"{file}:{start} -> {end}  {line_text(file, start)}"
            if forced.variant_side(start, end):
                if (start, end) not in variant_taken[file]:
                    unreached_variant_sides.append(where)
            elif (file, line_text(file, start), forced.side(start, end)) not in EXCEPTIONS:
                unexplained.append(where)
    assert unexplained == [], "branches no grid case takes: add a case, or an exception with its reason"
    assert unreached_variant_sides == [], "variant sides no named variant takes along the grid"


def test_every_exception_is_still_needed(measured):
    missed, _ = measured
    still_missed = set()
    for file, arcs in missed.items():
        forced = _Forced(optimizer_files_by_name()[file].read_text())
        still_missed |= {(file, line_text(file, start), forced.side(start, end)) for start, end in arcs}
    assert set(EXCEPTIONS) - still_missed == set()


def test_a_missed_branch_is_reported(tmp_path):
    """The measure can fail: SGD's grid without its momentum cases misses the momentum branch."""
    sgd = reference.get("sgd")
    cases = [c for c in GRID["sgd"] if not c.hp["momentum"] and not any(g["hp"].get("momentum") for g in c.groups)]
    assert cases and len(cases) < len(GRID["sgd"])

    def run_all():
        for case in cases:
            trajectory.run(sgd, problems.get(case.problem, case.negate), case.hp, 3,
                           groups=[dict(g) for g in case.groups] or None)
    cov, _ = trace(run_all)
    missed = missing_branches(cov, tmp_path)["sgd.py"]
    assert any(line_text("sgd.py", start) == "if momentum:" for start, _ in missed)


def test_variant_sides_are_found_from_the_source():
    forced = _Forced(optimizer_files_by_name()["sgd.py"].read_text())
    lines = optimizer_files_by_name()["sgd.py"].read_text().splitlines()
    at = {line.strip(): k + 1 for k, line in enumerate(lines)}
    assert forced.sides[at['if momentum and nesterov and variant == "nesterov_lr_in_velocity":']][0] is False
    assert forced.sides[at['if variant != "decay_after_momentum":']][0] is True
    assert at["if momentum:"] not in forced.sides  # a hyperparameter's branch is the grid's to cross
