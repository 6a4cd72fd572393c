"""Settings no case could run under are one line and exit 2, before anything runs; the report
records every setting it ran under."""
import json

import pytest
import torch

from optgold import cli
from optgold.check import Options, check, validate
from optgold.kinds import optimizer, scheduler
from optgold.reference.errors import UsageError


@pytest.mark.parametrize("fields, text", [
    ({"dtype": "float8"}, "dtype 'float8' is not one of float64, float32, bfloat16, float16"),
    ({"device": "foo"}, "device 'foo' is not a torch device"),
    ({"device": "tpu"}, "device 'tpu'"),
    ({"timeout": 0}, "timeout 0"),
    ({"timeout": -1}, "timeout -1"),
    ({"timeout": float("inf")}, "timeout inf"),
    ({"budget": 0}, "budget 0"),
    ({"threads": 0}, "threads 0"),
    ({"modes": ("replay", "fre")}, "mode 'fre'"),
    ({"adapter": "jax"}, "adapter 'jax'"),
    ({"contracts": "resum"}, "unknown contract 'resum'"),
    ({"contracts": "resume,amp,nope"}, "unknown contract 'nope'"),
    ({"contracts": []}, "name one contract or more"),
    ({"contracts": 3}, "contracts 3 must be"),
    ({"impl_args": {"not a name": 1}}, "impl_args"),
])
def test_a_bad_setting_is_one_usage_error(fields, text):
    with pytest.raises(UsageError, match=text.replace("(", r"\(")) as raised:
        validate(Options(**fields), optimizer)
    assert "\n" not in str(raised.value)


def test_a_mode_of_another_kind_is_refused():
    with pytest.raises(UsageError, match="scheduler kind's modes are schedule"):
        validate(Options(modes=("replay",)), scheduler)


def test_cuda_without_cuda_is_refused():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(UsageError, match="CUDA is not available"):
        validate(Options(device="cuda"), optimizer)


@pytest.mark.parametrize("argv, text", [
    (["--device", "foo"], "device 'foo'"),
    (["--timeout", "0"], "timeout 0"),
    (["--timeout", "-1"], "timeout -1"),
    (["--budget", "-5"], "budget -5"),
    (["--threads", "0"], "threads 0"),
    (["--json", "/no/such/folder/out.json"], "--json /no/such/folder/out.json: the folder /no/such/folder does "
                                             "not exist"),
])
def test_the_cli_refuses_before_running_anything(argv, text, capsys, monkeypatch):
    import optgold.check

    monkeypatch.setattr(optgold.check, "check_case", None)  # nothing may run
    assert cli.main(["check", "torch.optim:SGD", "--reference", "sgd", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert text in err and len(err.splitlines()) == 1


def test_a_factory_returning_no_optimizer_is_one_load_error_on_the_cli(capsys, tmp_path):
    (tmp_path / "factory.py").write_text("def make(params, **hp):\n    return {'params': list(params), **hp}\n")
    assert cli.main(["check", f"{tmp_path / 'factory.py'}:make", "--reference", "sgd"]) == 2
    err = capsys.readouterr().err.strip()
    assert "not an optimizer" in err and len(err.splitlines()) == 1


def test_the_json_records_every_setting_and_the_versions(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert cli.main(["check", "torch.optim:SGD", "--reference", "sgd", "--dtype", "float32", "--mode", "replay",
                     "--impl-arg", "foreach=false", "--threads", "1", "--json", str(out)]) == 0
    settings = json.loads(out.read_text())["settings"]
    assert settings["impl"] == "torch.optim:SGD" and settings["reference"] == "sgd"
    assert settings["kind"] == "optimizer" and settings["dtype"] == "float32" and settings["device"] == "cpu"
    assert settings["modes"] == ["replay"] and settings["impl_args"] == {"foreach": False}
    assert settings["threads"] == 1 and settings["timeout"] > 0 and settings["budget"] > 0
    assert settings["torch_version"] == torch.__version__ and settings["optgold_version"]
    cases = json.loads(out.read_text())["cases"]
    assert all(c["hyperparameters"] and "lr" in c["hyperparameters"] for c in cases)


def test_the_report_of_a_python_call_records_its_settings():
    report = check(torch.optim.SGD, "sgd", options=Options(modes=("replay",), budget=100.0, contracts="none"))
    assert report.settings["budget"] == 100.0 and report.as_json()["settings"] == report.settings


def test_cases_selects_by_id_and_an_unknown_id_is_a_usage_error():
    report = check(torch.optim.Adam, "adam", cases=("noisy",), modes=("replay",), contracts="none")
    assert [c.id for c in report.cases] == ["noisy"] and report.settings["cases"] == ["noisy"]
    with pytest.raises(UsageError, match="no case 'nosiy'; the cases are default_rotated"):
        check(torch.optim.Adam, "adam", cases=("nosiy",))
