"""The HTML report of `optgold check --report DIR`: the data behind each figure, the page, and how it is written.

One check feeds most tests: the AdamAmsgradNotStored mutant on two replay cases. On
groups_isotropic (amsgrad in one group) it diverges at step 4, so its curve must stay
below 1 to step 3 and cross 1 at 4; eps_rosenbrock (no amsgrad) passes, a 2-D problem.
"""
import html
import io
import json
import os
import re
import shutil
import subprocess

import numpy as np
import pytest
import torch
from contextlib import redirect_stdout
from pathlib import Path

from optgold import html_report, report_figures
from optgold.check import check
from optgold.cli import main
from optgold.golden.load import load_cases
from tests.mutants.adam_mutants import AdamAmsgradNotStored

ROOT = Path(__file__).resolve().parent.parent
MUTANT = "tests/mutants/adam_mutants.py:AdamAmsgradNotStored"
FAILING, PASSING = "groups_isotropic", "eps_rosenbrock"


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """(report folder, terminal output) of the mutant's check on the two cases, as the command line writes it."""
    folder = tmp_path_factory.mktemp("report") / "out"
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["check", MUTANT, "--reference", "adam", "--cases", f"{FAILING},{PASSING}", "--mode", "replay",
                     "--contracts", "none", "--report", str(folder)])
    assert code == 1
    return folder, out.getvalue()


def cases_of(folder):
    (check_data,) = json.loads((folder / html_report.DATA).read_text())
    return {c["id"]: c for c in check_data["cases"]}


def worst_per_step(case):
    steps, values = report_figures.worst(case["evidence"]["curves"])
    return dict(zip(steps.tolist(), values.tolist()))


def test_a_failing_case_crosses_1_at_the_step_the_terminal_names(written):
    folder, terminal = written
    row = next(line for line in terminal.splitlines() if FAILING in line and "failed" in line)
    step = int(re.search(r"failed\s*│\s*(\d+)", row).group(1))
    case = cases_of(folder)[FAILING]
    assert step == case["first_divergent_step"] == 4
    worst = worst_per_step(case)
    assert all(worst[s] < 1 for s in range(step)) and worst[step] > 1
    # the quantity that crosses is named: amsgrad's buffer, never stored, and the params it moves
    crossing = {c["quantity"] for c in case["evidence"]["curves"]
                for row in c["ratio"][step - c["first_step"]:step - c["first_step"] + 1] if max(row) > 1}
    assert "max_exp_avg_sq" in crossing or "params" in crossing
    page = (folder / html_report.INDEX).read_text()
    assert f"first divergence at step {step}, marked by the vertical line" in page


def test_a_passing_case_keeps_every_curve_below_1(written):
    folder, _ = written
    case = cases_of(folder)[PASSING]
    assert case["status"] == "passed"
    values = [v for curve in case["evidence"]["curves"] for row in curve["ratio"] for v in row]
    assert values and max(values) < 1
    assert max(values) == pytest.approx(case["tolerance_used"])  # the judgement's own figure, not a second one
    assert "no divergence: every curve stays below 1" in (folder / html_report.INDEX).read_text()


def test_every_tensor_and_state_buffer_has_its_curve(written):
    folder, _ = written
    case = cases_of(folder)[FAILING]
    golden = next(c for c in load_cases("adam") if c.id == FAILING)
    curves = {c["quantity"]: c for c in case["evidence"]["curves"]}
    assert set(curves) == {"params", *golden.state}
    for curve in curves.values():
        assert curve["tensors"] == [f"tensor {k}" for k in range(len(golden.shapes))]
        assert len(curve["ratio"]) == golden.steps + (curve["quantity"] == "params")


def test_the_page_holds_the_table_the_command_and_the_figures(written):
    folder, _ = written
    page = (folder / html_report.INDEX).read_text()
    assert "<th>tol used</th>" in page and page.count("<tr><td>") == 2
    assert ("optgold check " + MUTANT + " --reference adam --dtype float64 --device cpu --cases "
            f"{FAILING},{PASSING} --mode replay --contracts none") in page
    images = re.findall(r'<img src="([^"]+)"', page)
    assert sorted(images) == sorted(f"figures/{p.name}" for p in (folder / "figures").iterdir())
    kinds = re.findall(r'<figure class="(\w+)"', page)
    # the failing case: its curves and the variants' distances; the passing 2-D case: curves and trajectories
    assert sorted(kinds) == ["passing", "plane", "ratio", "ratio", "variants"]
    assert "http" not in page and "<script" not in page  # nothing fetched, nothing run


def test_a_2d_case_records_golden_and_observed_trajectories(written):
    folder, _ = written
    plane = cases_of(folder)[PASSING]["evidence"]["plane"]
    golden = next(c for c in load_cases("adam") if c.id == PASSING)
    assert plane["problem"] == "rosenbrock_2d"
    assert np.array_equal(plane["golden"], golden.params)
    assert np.allclose(plane["observed"], golden.params, rtol=0, atol=1e-9)  # a passing run stays on it
    assert cases_of(folder)[FAILING]["evidence"]["plane"] is None  # a quadratic has no contour plot


def test_the_nearest_variants_distance_is_beside_the_references(written):
    folder, _ = written
    variants = cases_of(folder)[FAILING]["evidence"]["variants"]
    assert variants["ranked"] and variants["reference"] > 0
    assert [d for _, d in variants["ranked"]] == sorted(d for _, d in variants["ranked"])


def test_curves_cross_1_exactly_where_the_judgement_finds_the_divergence():
    """The curves are the judgement's own: for every failing case the worst curve first exceeds 1 at the
    step the case names, and a passing case's largest value is its tol used."""
    from tests.mutants.adam_mutants import AdamEpsInsideSqrt

    report = check(AdamEpsInsideSqrt, "adam", contracts="none", modes=("replay",),
                   cases=("default_rotated", "amsgrad_isotropic"))
    for result in report.cases:
        worst = worst_per_step(result.as_json() | {"evidence": result.evidence})
        assert min(s for s, v in worst.items() if v > 1) == result.first_divergent_step
        assert max(worst.values()) == pytest.approx(result.tolerance_used)


@pytest.mark.parametrize("reference, impl, kind", [
    ("step_lr", torch.optim.lr_scheduler.StepLR, "scheduler"),
    ("ema", torch.optim.swa_utils.AveragedModel, "averaging"),
])
def test_other_kinds_record_their_curves_and_write_a_page(reference, impl, kind, tmp_path):
    report = check(impl, reference)
    assert report.kind == kind and report.passed
    for result in report.cases:
        worst = report_figures.worst(result.evidence["curves"])[1]
        assert worst.size and worst.max() < 1
        assert worst.max() == pytest.approx(result.tolerance_used)
    index = html_report.write([report], tmp_path / "r")
    assert index.read_text().count('<figure class="ratio">') == min(len(report.cases), html_report.DETAILED)


def test_a_network_check_records_its_curves_per_named_tensor_and_draws_its_loss_curves(tmp_path):
    report = check(torch.optim.Adam, "adam", problem="cifar", dtype="float32", steps=3, cases=("l2_cosine",))
    (result,) = report.cases
    params = next(c for c in result.evidence["curves"] if c["quantity"] == "params")
    assert params["first_step"] == 1 and len(params["ratio"]) == 3
    assert len(params["tensors"]) > 1 and not params["tensors"][0].startswith("tensor ")
    assert max(max(row) for row in params["ratio"]) < 1
    page = html_report.write([report], tmp_path / "r").read_text()
    assert "No loss curves" in page and '<figure class="loss">' not in page
    # the loss curves are free_run.plot's, drawn where the check trained IMPL (--loss-curve); a free run's
    # record stands in here for the minutes of training
    result.details.update(golden_loss=[2.3, 2.2, 2.1], free_run={"loss": [2.3, 2.25, 2.2], "message": "",
                                                                 "evaluation": None})
    page = html_report.write([report], tmp_path / "r").read_text()
    assert '<figure class="loss">' in page and (tmp_path / "r" / "figures" / "c0-loss.png").stat().st_size > 0


def test_a_bfloat16_check_draws_each_steps_own_ratios(tmp_path):
    """Judged a step at a time: a passing case's one-step curves stay below 1, a caught mutant's cross 1 at
    its step, and replay adds the whole trajectory's."""
    from tests.mutants.adam_mutants import AdamNoSecondMomentCorrection

    passing = check(torch.optim.Adam, "adam", dtype="bfloat16", modes=("replay",), contracts="none",
                    cases=("default_rotated",))
    failing = check(AdamNoSecondMomentCorrection, "adam", dtype="bfloat16", modes=("replay",), contracts="none",
                    cases=("default_rotated",))
    (good,), (bad,) = passing.cases, failing.cases
    assert good.status == "passed" and bad.status == "failed"
    assert {c["quantity"] for c in good.evidence["curves"]} == {"params", "exp_avg", "exp_avg_sq",
                                                               "params (whole trajectory)"}
    worst = report_figures.worst(good.evidence["curves"])[1]
    assert worst.max() < 1 and worst.max() == pytest.approx(good.tolerance_used)
    crossing = worst_per_step(bad.as_json() | {"evidence": bad.evidence})
    assert min(s for s, v in crossing.items() if v > 1) == bad.first_divergent_step
    assert html_report.write([failing], tmp_path / "r").read_text().count('<figure class="ratio">') == 1


def test_a_judged_case_without_curves_is_named(tmp_path):
    """Kahan summation declared, and torch's Adam keeps no compensation: judged, failed, and nothing to draw."""
    report = check(torch.optim.Adam, "adam", dtype="bfloat16", rounding="kahan", modes=("replay",),
                   contracts="none", cases=(PASSING,))
    (result,) = report.cases
    assert result.status == "failed" and result.evidence["curves"] == []
    page = html_report.write([report], tmp_path / "r").read_text()
    assert "recorded no |error| / tolerance curve (their messages say why): " + PASSING in page
    assert '<figure class="ratio">' not in page


def test_a_report_over_many_cases_bounds_its_figures(tmp_path):
    report = check(torch.optim.Adam, "adam", modes=("replay",), contracts="none")
    many = report.cases * 5  # 55 case-modes
    report.cases = many
    index = html_report.write([report], tmp_path / "r")
    page = index.read_text()
    assert page.count('<figure class="ratio">') == html_report.DETAILED
    assert page.count('<figure class="passing">') == 1
    assert "have no figures of their own" in page
    assert len(list((tmp_path / "r" / "figures").iterdir())) <= 3 * html_report.DETAILED + 1


def test_a_file_is_refused_before_the_check_runs(tmp_path, capsys):
    target = tmp_path / "report"
    target.write_text("not a folder")
    code = main(["check", "torch.optim:Adam", "--reference", "adam", "--report", str(target)])
    err = capsys.readouterr().err
    assert code == 2 and "is a file" in err and err.count("\n") == 1
    assert target.read_text() == "not a folder"


def test_a_folder_of_other_files_is_kept(tmp_path):
    target = tmp_path / "report"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(html_report.UsageError, match="holds other files"):
        html_report.check_directory(target)
    assert (target / "notes.txt").read_text() == "mine"


def test_an_earlier_report_is_replaced_whole_and_nothing_is_left_beside_it(written, tmp_path):
    folder, _ = written
    earlier = tmp_path / "r"
    shutil.copytree(folder, earlier)
    (earlier / "figures" / "stale.png").write_bytes(b"old")
    report = check(torch.optim.Adam, "adam", modes=("replay",), contracts="none", cases=(PASSING,))
    html_report.write([report], earlier)
    assert not (earlier / "figures" / "stale.png").exists()
    assert [c["id"] for c in json.loads((earlier / html_report.DATA).read_text())[0]["cases"]] == [PASSING]
    assert [p.name for p in tmp_path.iterdir()] == ["r"]  # no staging folder left behind


def test_a_missing_parent_folder_is_a_one_line_error(tmp_path):
    with pytest.raises(html_report.UsageError, match="does not exist"):
        html_report.check_directory(tmp_path / "absent" / "report")


# -- in a real browser: headless Chromium (Debian's package) opens the page from a file

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (Debian: apt-get "
                                    "install chromium; .ci/run installs it where it runs as root with apt-get)")
# Appended to a copy of the page, never to the report: once the page has loaded, every image's
# source, whether it finished, and its decoded size (0 x 0: broken) are written into the DOM.
PROBE = """<script>
window.addEventListener("load", () => {
  const out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify(Array.from(document.images,
      i => ({src: i.getAttribute("src"), complete: i.complete, width: i.naturalWidth, height: i.naturalHeight})));
  document.body.appendChild(out);
});
</script>"""


def chromium(url, *flags, home):
    """Run headless Chromium on ``url``; its stdout. ``home``: a fresh profile folder."""
    result = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                             f"--user-data-dir={home}", "--virtual-time-budget=10000", *flags, url],
                            capture_output=True, text=True, timeout=90)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def rendered(folder, home):
    """(the page's DOM after load, [each <img>'s probe record]) of ``folder``'s report, as Chromium renders it."""
    probe = folder / "probe.html"
    probe.write_text((folder / html_report.INDEX).read_text().replace("</body>", PROBE + "</body>"))
    try:
        dom = chromium(probe.as_uri(), "--dump-dom", home=home)
    finally:
        probe.unlink()
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found, "the page did not finish loading: no probe output"
    return dom, json.loads(html.unescape(found.group(1)))


def broken(images):
    return [i["src"] for i in images if not (i["complete"] and i["width"] > 0 and i["height"] > 0)]


@needs_chromium
def test_in_chromium_every_figure_renders_and_the_failing_curve_is_captioned_at_its_step(written, tmp_path):
    folder, _ = written
    dom, images = rendered(folder, tmp_path / "profile")
    assert broken(images) == []
    assert len(images) == len(re.findall(r"<figure ", (folder / html_report.INDEX).read_text())) == 5
    assert len(re.findall(r"<tr><td>", dom)) == 2  # one summary row per case-mode
    assert "first divergence at step 4, marked by the vertical line" in dom
    assert "no divergence: every curve stays below 1" in dom
    screenshot = tmp_path / "page.png"
    chromium((folder / html_report.INDEX).as_uri(), f"--screenshot={screenshot}", "--window-size=1200,3000",
             home=tmp_path / "profile")
    assert screenshot.stat().st_size > 10_000  # a page with figures, not a blank one


@needs_chromium
def test_in_chromium_a_missing_figure_is_found_broken(written, tmp_path):
    """The probe can fail: a report with one figure deleted shows that image broken."""
    folder, _ = written
    damaged = tmp_path / "damaged"
    shutil.copytree(folder, damaged)
    missing = sorted((damaged / html_report.FIGURES).iterdir())[0]
    missing.unlink()
    _, images = rendered(damaged, tmp_path / "profile")
    assert broken(images) == [f"{html_report.FIGURES}/{missing.name}"]


# -- the pytest plugin writes the same report, and names each failure's diagnosis in JUnit XML

PLUGIN_TEST = """
import pytest
from tests.mutants.adam_mutants import AdamAmsgradNotStored

@pytest.mark.optgold(impl=AdamAmsgradNotStored, reference="adam", modes=("replay",), contracts="none")
def test_adam(optgold_case):
    optgold_case.assert_passes()
"""


@pytest.fixture
def plugin_run(pytester, monkeypatch):
    """Run the plugin in a pytest subprocess on the mutant's two cases; (its result, report folder, JUnit XML)."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    pytester.makepyfile(test_adam=PLUGIN_TEST)

    def run(*extra):
        folder, junit = pytester.path / "report", pytester.path / "junit.xml"
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-k", f"{FAILING} or {PASSING}",
                                               f"--optgold-report={folder}", f"--junitxml={junit}", *extra)
        return result, folder, junit
    return run


def test_the_plugin_writes_the_report_and_names_the_diagnosis_in_junit(plugin_run):
    import xml.etree.ElementTree as ElementTree

    result, folder, junit = plugin_run()
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines([f"optgold report: {folder / html_report.INDEX}"])
    cases = cases_of(folder)
    assert cases[FAILING]["first_divergent_step"] == 4 and cases[PASSING]["status"] == "passed"
    worst = worst_per_step(cases[FAILING])
    assert all(worst[s] < 1 for s in range(4)) and worst[4] > 1
    (failure,) = ElementTree.parse(junit).iter("failure")
    (testcase,) = [t for t in ElementTree.parse(junit).iter("testcase") if t.find("failure") is not None]
    properties = {p.get("name"): p.get("value") for p in testcase.iter("property")}
    diagnosis = properties["optgold_diagnosis"]
    assert diagnosis.startswith("no named variant explains it") and "\n" not in diagnosis
    assert diagnosis in failure.get("message") and "diverge at step 4" in failure.get("message")
    passing = [t for t in ElementTree.parse(junit).iter("testcase") if t.find("failure") is None]
    assert [p.get("name") for t in passing for p in t.iter("property")] == []  # a pass carries no diagnosis


def test_under_xdist_the_workers_results_make_one_report(plugin_run):
    result, folder, _ = plugin_run("-n", "1")  # one worker: its results still travel to the controller
    result.assert_outcomes(failed=1, passed=1)
    (check_data,) = json.loads((folder / html_report.DATA).read_text())
    assert sorted(c["id"] for c in check_data["cases"]) == sorted([FAILING, PASSING])
    assert cases_of(folder)[FAILING]["evidence"]["curves"]


def test_the_plugin_refuses_a_report_path_that_is_a_file(pytester):
    pytester.makepyfile(test_nothing="def test_nothing():\n    pass\n")
    (pytester.path / "taken").write_text("x")
    result = pytester.runpytest_subprocess(f"--optgold-report={pytester.path / 'taken'}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--optgold-report*taken: is a file; give a folder for the report*"])
