"""Contract cases: their registry and selection, their rows in the report, their goldens, and how an
implementation that cannot take one, or breaks while running one, is reported."""
import io
import shutil

import numpy as np
import pytest
import torch
from rich.console import Console

from optgold import contracts, reference
from optgold.check import check
from optgold.golden import contracts as golden_contracts
from optgold.golden import load, store
from optgold.kinds import optimizer
from optgold.reference import capabilities
from optgold.reference.contracts import Events
from optgold.reference.errors import UsageError
from tests.test_golden_verify import refusal, rewrite


def test_every_contract_has_one_module_and_one_name():
    assert tuple(contracts.CONTRACTS) == capabilities.CONTRACTS
    assert all(module.NAME == name and module.DESCRIPTION for name, module in contracts.CONTRACTS.items())


def test_selection():
    assert contracts.selected("all") == capabilities.CONTRACTS and contracts.selected("none") == ()
    assert contracts.selected("amp, resume,amp") == ("amp", "resume")
    assert contracts.selected(["complex"]) == ("complex",)
    with pytest.raises(UsageError, match="unknown contract 'resum'; known: resume, missing_grad"):
        contracts.selected("resume,resum")


def test_list_shows_the_contracts_that_apply_to_each_reference():
    console = Console(file=io.StringIO(), width=400, color_system=None)
    console.print(optimizer.listing())
    rows = {line.split("│")[1].strip(): line for line in console.file.getvalue().splitlines() if line.count("│") > 4}
    assert "complex" in rows["adam"] and "missing_grad" in rows["adam"] and "low_precision" in rows["adam"]
    assert "complex" not in rows["adafactor"] and "empty_tensors" not in rows["muon"]
    assert "low_precision" not in rows["sgd"] and rows["lbfgs"].rstrip("│ ").endswith("none")


def test_a_contract_that_does_not_apply_has_no_rows_and_says_why():
    assert capabilities.contract_reason(reference.get("adafactor"), "complex") == (
        "adafactor takes no complex parameters (torch.optim:Adafactor refuses them)")
    ids = [c.id for c in optimizer.cases("adafactor", optimizer_options(contracts="complex,resume"))]
    assert not any(i.startswith("complex/") for i in ids) and "resume/after_10" in ids


def optimizer_options(**fields):
    from optgold.check import Options

    return Options(**fields)


def test_each_contract_case_is_a_row_with_its_contract_in_the_json():
    report = check(torch.optim.Adam, "adam", contracts=("resume", "amp"), modes=("replay",))
    rows = report.as_json()["cases"]
    contract_rows = [r for r in rows if r["contract"]]
    assert {r["id"] for r in contract_rows} == {"resume/after_1", "resume/after_10", "resume/after_20",
                                                "resume/reordered_after_12", "resume/mixed_dtypes_after_10", "amp/scaler_step",
                                                "amp/unscale_then_step"}
    assert all(r["contract"] == r["id"].split("/")[0] and r["status"] == "passed" for r in contract_rows)
    assert {r["contract"] for r in rows if "/" not in r["id"]} == {None}
    assert report.settings["contracts"] == ["resume", "amp"]
    assert check(torch.optim.Adam, "adam", contracts="none", modes=("replay",)).settings["contracts"] == "none"


class NoComplex(torch.optim.Adam):
    """Refuses complex parameters the way optgold asks: NotImplementedError."""

    def __init__(self, params, **kwargs):
        super().__init__(params, **kwargs)
        if any(p.is_complex() for group in self.param_groups for p in group["params"]):
            raise NotImplementedError("no complex parameters")


class BreaksOnLoad(torch.optim.Adam):
    def load_state_dict(self, state_dict):
        raise KeyError("exp_avg")


def test_an_unsupported_contract_is_skipped_with_the_reason():
    report = check(NoComplex, "adam", contracts=("complex", "resume"), modes=("replay",))
    complex_rows = [c for c in report.cases if c.contract == "complex"]
    assert complex_rows and all(c.status == "skipped" and "no complex parameters" in c.message for c in complex_rows)
    assert report.passed  # everything else ran and passed


def test_an_implementation_that_raises_in_a_contract_fails_that_case_and_the_others_run():
    report = check(BreaksOnLoad, "adam", contracts=("resume", "missing_grad"), modes=("replay",))
    resumed = [c for c in report.cases if c.contract == "resume"]
    assert all(c.status == "failed" and c.message.startswith("contract resume broken: raised KeyError at step")
               for c in resumed)
    assert {c.first_divergent_step for c in resumed} == {2, 11, 21, 13}  # the step after each restart
    assert all(c.status == "passed" for c in report.cases if c.contract != "resume")


def test_contract_events_change_the_trajectory_measurably():
    """Each golden made under events departs from the base run: a harness that ignored the events fails."""
    for name in reference.OPTIMIZERS:
        goldens = {g.id: g for g in load.load_contract_goldens(name)}
        if not goldens:
            continue
        base = goldens["base"]
        for cid in ("missing_grad", "amp_skip", "reordered"):
            if cid in goldens:
                judged = [("params", base.params)] + sorted(base.state.items())  # ASGD's ax moves no param
                gaps = [np.abs(getattr(goldens[cid], "params") - rows).max() / np.abs(rows).max() if key == "params"
                        else np.abs(goldens[cid].state[key] - rows).max() / (np.abs(rows).max() or 1)
                        for key, rows in judged]
                assert max(gaps) > 1e-3, (name, cid, gaps)


def test_the_reference_honours_the_events():
    events = Events.of(golden_contracts.EVENTS["missing_grad"])
    golden = next(g for g in load.load_contract_goldens("adam") if g.id == "missing_grad")
    frozen = golden.params[:, 4:12]  # tensor 1, frozen for steps 1-8
    assert (frozen[:9] == frozen[0]).all() and (frozen[9] != frozen[8]).all()
    assert (golden.params[15] == golden.params[14]).all()  # step 15: every .grad None
    zero = golden.params[:, 0:4]
    assert (zero[11] != zero[10]).all()  # a zero gradient still moves (momentum, weight decay)
    assert events.counts(3, 16)[14] == [14, 6, 14] and events.counts(3, 1)[0] == [1, None, 1]
    skipped = next(g for g in load.load_contract_goldens("adam") if g.id == "amp_skip")
    assert (skipped.params[4] == skipped.params[3]).all() and (skipped.params[5] == skipped.params[3]).all()
    assert Events.of({"skipped": [4, 5]}).schedule_rows(6) == [0, 1, 2, 3, 3, 3]


def test_every_reference_with_a_grid_module_has_contract_goldens_unless_it_takes_a_closure():
    for name, module in reference.OPTIMIZERS.items():
        expected = not capabilities.of(module).closure
        assert golden_contracts.has_contracts(name) == expected, name
        assert bool(load.load_contract_goldens(name)) == expected, name


@pytest.fixture
def goldens(tmp_path):
    target = tmp_path / "goldens"
    target.mkdir()
    for name in ("MANIFEST.json", "adam.npz", "contracts_adam.npz"):
        shutil.copyfile(store.PACKAGED_DIR / name, target / name)
    return target


def test_a_tampered_contract_golden_is_refused(goldens):
    def change(meta, arrays):
        arrays["missing_grad/params"][5, 4] += 1e-6  # the frozen tensor moves while frozen
    rewrite(goldens, "contracts_adam.npz", change)
    refusal(goldens, "adam", "missing_grad", "params at step 5", loader=load.load_contract_goldens)


def test_tampered_events_are_refused(goldens):
    def change(meta, arrays):
        next(m for m in meta["cases"] if m["id"] == "amp_skip")["events"] = {"skipped": [4]}
    rewrite(goldens, "contracts_adam.npz", change)
    refusal(goldens, "adam", "amp_skip", "params at step 5", loader=load.load_contract_goldens)


def test_a_missing_contract_file_names_the_command_to_run(goldens):
    (goldens / "contracts_adam.npz").unlink()
    with pytest.raises(store.GoldenError, match=r"contracts_adam.npz is missing; regenerate with `optgold generate"):
        load.load_contract_goldens("adam", goldens)
