"""Usage errors and output of the command line: impl-arg values, Ctrl-C, implementations that raise in a
benchmark, tables outside a terminal, and the check table's record of its settings."""
import io
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from rich.console import Console

from optgold import kinds, report
from optgold.bench.paired import Side, measure
from optgold.bench.workload import ConstructionError, StepError, hyperparameters
from optgold.cli import build_parser, main
from optgold.commands import UsageError, listing
from optgold.commands.arguments import parse_impl_arg
from optgold.golden.grid import GRID

README = Path(__file__).resolve().parents[1] / "README.md"
TINY = ["--workload", "tiny", "--pairs", "6", "--warmup", "1", "--self-check", "0"]


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


# --impl-arg values are JSON; a string is quoted


@pytest.mark.parametrize("text, value", [
    ("fused=true", True), ("fused=false", False), ("steps=3", 3), ("lr=1e-3", 1e-3), ("eps=null", None),
    ("betas=[0.9, 0.99]", [0.9, 0.99]), ('inner="torch.optim:Adam"', "torch.optim:Adam"),
    ("inner='torch.optim:Adam'", "torch.optim:Adam"), ('name=""', ""), ("fused=True", True),
    ("fused=False", False), ("eps=None", None),
])
def test_json_literals_and_quoted_strings_are_read(text, value):
    assert parse_impl_arg(text) == (text.partition("=")[0], value)


@pytest.mark.parametrize("text, hint", [
    ("fused=flase", "did you mean --impl-arg fused=false?"),
    ("inner=torch.optim:Adam", """--impl-arg 'inner="torch.optim:Adam"'"""),
    ("betas=(0.9, 0.99)", "did you mean --impl-arg 'betas=[0.9, 0.99]'?"),
    ("mode=fast", """--impl-arg 'mode="fast"'"""),
    ("name=", """--impl-arg 'name=""'"""),
    ("name='unclosed", "a string must be quoted"),
])
def test_an_unquoted_string_is_a_one_line_usage_error_saying_how_to_quote_it(text, hint):
    with pytest.raises(UsageError) as error:
        parse_impl_arg(text)
    message = str(error.value)
    assert hint in message and "\n" not in message


def test_the_suggested_quoting_reads_back_as_the_string():
    with pytest.raises(UsageError) as error:
        parse_impl_arg("inner=torch.optim:Adam")
    suggested = str(error.value).rpartition("--impl-arg ")[2]
    (word,) = shlex.split(suggested)  # as the shell hands it over
    assert parse_impl_arg(word) == ("inner", "torch.optim:Adam")


def test_a_misspelt_flag_value_stops_the_check_before_it_runs(capsys):
    code, out, err = run(["check", "torch.optim:Adam", "--reference", "adam", "--impl-arg", "fused=flase"], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "fused=flase" in err and "fused=false" in err


def test_bench_names_the_flag_of_a_bad_value(capsys):
    code, _, err = run(["bench", "torch.optim:SGD", "--reference", "sgd", "--hp", "momentum=lots"], capsys)
    assert code == 2 and err.startswith("optgold: error: --hp momentum=lots:") and err.count("\n") == 1


@pytest.mark.parametrize("quoted", ["""label="x\"""", "label='x'"])
def test_a_quoted_string_reaches_the_constructor_as_a_string(quoted, tmp_path, capsys):
    impl = tmp_path / "labelled.py"
    impl.write_text(textwrap.dedent("""
        import torch

        def make(params, label=None, **hyperparameters):
            if label != "x":
                raise ValueError(f"label {label!r}")
            return torch.optim.SGD(params, **hyperparameters)
    """))
    code, out, _ = run(["check", f"{impl}:make", "--reference", "sgd", "--mode", "replay", "--impl-arg", quoted],
                       capsys)
    assert code == 0, out


def test_every_impl_arg_in_the_readme_parses():
    uses = re.findall(r"""--impl-arg ('[^']*'|"[^"]*"|[^\s`'"]+)""", README.read_text())
    words = [shlex.split(use)[0] for use in uses if use != "KEY=VALUE"]
    assert len(words) >= 4
    for word in words:
        parse_impl_arg(word)  # raises on an unquoted string


# Ctrl-C


def test_keyboard_interrupt_in_a_command_ends_in_one_line_and_exit_130(monkeypatch, capsys):
    from optgold.commands import check

    def interrupted(args, console):
        raise KeyboardInterrupt

    monkeypatch.setattr(check, "run", interrupted)
    try:
        code, _, err = run(["check", "torch.optim:Adam", "--reference", "adam"], capsys)
    except KeyboardInterrupt:
        pytest.fail("KeyboardInterrupt escaped main: a traceback")
    assert code == 130 and err == "optgold: interrupted\n"


def test_sigint_during_a_real_run_prints_no_traceback(tmp_path):
    impl = tmp_path / "interrupting.py"
    impl.write_text("import os, signal, time\nos.kill(os.getpid(), signal.SIGINT)\ntime.sleep(5)\n")
    proc = subprocess.run([sys.executable, "-m", "optgold.cli", "check", f"{impl}:X", "--reference", "sgd"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 130, proc.stderr
    assert proc.stderr == "optgold: interrupted\n"


# an implementation that raises during a benchmark

FLAKY = textwrap.dedent("""
    import torch

    class Flaky(torch.optim.SGD):
        '''Steps three times, then raises: after construction, in the middle of timing.'''

        def step(self, closure=None):
            self.calls = getattr(self, "calls", 0) + 1
            if self.calls > 3:
                raise RuntimeError("kernel exploded\\nsecond line of the message")
            return super().step(closure)
""")


def test_bench_of_an_implementation_that_raises_exits_2_naming_it(tmp_path, capsys):
    impl = tmp_path / "flaky.py"
    impl.write_text(FLAKY)
    code, out, err = run(["bench", f"{impl}:Flaky", "--reference", "sgd", *TINY], capsys)
    assert code == 2  # a usage error, never 1: 1 is a confirmed slowdown
    assert err == f"optgold: error: IMPL {impl}:Flaky, stepping on workload 'tiny', raised RuntimeError: kernel " \
                  "exploded\n"
    assert "Traceback" not in out + err and "FAILED" not in out


@pytest.mark.parametrize("ending, how", [("os._exit(0)", "exited with code 0"), ("sys.exit(0)", "exited with code 0"),
                                        ("os.kill(os.getpid(), 9)", "was killed by signal SIGKILL")])
def test_bench_of_an_implementation_that_ends_its_process_never_exits_0(ending, how, tmp_path, capsys):
    """bench times in the implementation's own process (a guarded child): ending it ends nothing here."""
    impl = tmp_path / "ends.py"
    impl.write_text(textwrap.dedent(f"""
        import os, sys, torch

        class Ends(torch.optim.SGD):
            def step(self, closure=None):
                self.n = getattr(self, "n", 0) + 1
                if self.n == 3:
                    {ending}
                return super().step(closure)
    """))
    code, out, err = run(["bench", f"{impl}:Ends", "--reference", "sgd", *TINY], capsys)
    assert code == 2 and how in err and "nothing it measured counts" in err and len(err.splitlines()) == 1


@pytest.fixture
def flaky(tmp_path, monkeypatch):
    impl = tmp_path / "flaky_side.py"
    impl.write_text(FLAKY)
    monkeypatch.syspath_prepend(str(tmp_path))
    from flaky_side import Flaky

    return Flaky


def test_the_side_that_raised_is_named_baseline_included(flaky):
    sides = [Side("SGD", "torch.optim:SGD", torch.optim.SGD, {}),
             Side("Flaky(foreach=False)", "flaky_side:Flaky", flaky, {"foreach": False})]
    with pytest.raises(StepError) as error:
        measure("tiny", sides, "sgd", hyperparameters("sgd", {}), "float32", "cpu", pairs=6, warmup=1)
    assert str(error.value) == ("baseline flaky_side:Flaky (foreach=False), stepping on workload 'tiny', raised "
                                "RuntimeError: kernel exploded")


def test_a_construction_failure_on_a_workload_names_the_side():
    def refuses_big(params, **hp):
        if len(params) > 100:
            raise MemoryError("too big for me")
        return torch.optim.SGD(params, **hp)

    sides = [Side("refuses_big", "mine:refuses_big", refuses_big, {})]
    with pytest.raises(ConstructionError) as error:
        measure("many-small", sides, "sgd", hyperparameters("sgd", {}), "float32", "cpu", pairs=6, warmup=1)
    assert str(error.value).startswith("IMPL mine:refuses_big on workload 'many-small': ")
    assert "MemoryError: too big for me" in str(error.value)


# tables outside a terminal: as wide as their names need


def piped_console():
    return Console(file=io.StringIO(), force_terminal=False, width=80)


LONG_IDS = ["weight_decay_with_nesterov_momentum_on_rotated_rosenbrock", "maximize_and_amsgrad_isotropic_deep"]


def fake_report(ids=LONG_IDS, **settings):
    cases = [SimpleNamespace(id=i, mode="replay+resume", dtype="float32", status="passed", first_divergent_step=None,
                             max_abs_error=1e-7, tolerance_used=0.12, message="") for i in ids]
    fields = dict(impl="torch.optim:Adam", reference="adam", cases=cases, passed=True)
    return SimpleNamespace(**fields, settings=settings) if settings else SimpleNamespace(**fields)


def table_rows(text):
    return [line for line in text.splitlines() if line.startswith("│")]


def test_rich_alone_splits_long_case_ids_in_a_pipe():
    console = piped_console()
    console.print(report.table(fake_report()))
    assert not any(LONG_IDS[0] in row for row in table_rows(console.file.getvalue()))  # what the fix is for


def test_the_check_table_keeps_every_case_id_whole_in_a_pipe():
    console = piped_console()
    report.show(fake_report(), console)
    text = console.file.getvalue()
    rows = table_rows(text)
    assert len(rows) == len(LONG_IDS) and "…" not in text
    for case_id, row in zip(LONG_IDS, rows):
        assert row.startswith(f"│ {case_id} ")


def test_in_a_terminal_the_table_fits_the_terminal():
    console = Console(file=io.StringIO(), force_terminal=True, width=80, color_system=None)
    report.show(fake_report(), console)
    assert max(map(len, console.file.getvalue().splitlines())) <= 80


def listing_names():
    """Every reference, hyperparameter name and variant `optgold list` shows."""
    names = set()
    for kind in kinds.KINDS.values():
        for row in zip(*(column._cells for column in kind.listing().columns)):
            names.add(row[0])
            for cell in row[1:3]:
                names.update(item.partition("=")[0] for item in str(cell).split(", "))
    return {n for n in names if n and n.isidentifier()}


@pytest.mark.parametrize("terminal, width", [(False, 80), (True, 80), (True, 60)])
def test_list_never_cuts_a_name(terminal, width):
    console = Console(file=io.StringIO(), force_terminal=terminal, width=width, color_system=None)
    listing.run(None, console)
    text = console.file.getvalue()
    assert "…" not in text
    if not terminal:  # outside a terminal no name is split over two rows either
        words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))
        assert listing_names() <= words


def test_piped_check_and_list_keep_names_whole():
    check = subprocess.run([sys.executable, "-m", "optgold.cli", "check", "torch.optim:SGD", "--reference", "sgd",
                            "--mode", "replay"], capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stdout + check.stderr
    rows = table_rows(check.stdout)
    for case in GRID["sgd"]:
        assert any(row.startswith(f"│ {case.id} ") for row in rows), case.id
    assert "…" not in check.stdout
    assert "--mode replay" in check.stdout and f"torch {torch.__version__}" in check.stdout

    listed = subprocess.run([sys.executable, "-m", "optgold.cli", "list"], capture_output=True, text=True,
                            timeout=120)
    assert listed.returncode == 0 and "…" not in listed.stdout
    assert listing_names() <= set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", listed.stdout))


# the check table records every setting

SETTINGS = dict(impl="path/to/my adam.py:Adam", reference="adam", kind="optimizer", dtype="float32", device="cpu",
                modes=["replay"], impl_args={"fused": True, "inner": "torch.optim:SGD", "betas": [0.9, 0.99]},
                adapter="torch", contracts=["resume", "amp"], timeout=60.0, budget=120.0, threads=2, golden_dir="/tmp/goldens",
                optgold_version="0.1.0", torch_version="2.13.0+cpu")


def test_the_title_is_a_command_line_that_reruns_the_check():
    line = report.command_line(fake_report(**SETTINGS))
    words = shlex.split(line)
    assert words[:2] == ["optgold", "check"]
    args = build_parser().parse_args(words[1:])
    assert (args.impl, args.reference, args.dtype, args.device, args.mode, args.adapter, args.contracts,
            args.timeout, args.budget, args.threads, args.golden_dir) == (
        "path/to/my adam.py:Adam", "adam", "float32", "cpu", "replay", None, "resume,amp", 60.0, 120.0, 2,
        "/tmp/goldens")  # adapter torch is what a torch implementation is driven by when none is given
    assert dict(parse_impl_arg(a) for a in args.impl_arg) == SETTINGS["impl_args"]


def test_settings_at_their_default_are_left_out_except_dtype_and_device():
    line = report.command_line(fake_report(**{**SETTINGS, "modes": None, "contracts": "all", "impl_args": {},
                                              "timeout": 30.0, "budget": 300.0, "threads": 1,
                                              "golden_dir": None}))
    assert line == "optgold check 'path/to/my adam.py:Adam' --reference adam --dtype float32 --device cpu"
    changed = report.command_line(fake_report(**{**SETTINGS, "adapter": "jax", "budget": 60.0, "threads": 4}))
    assert "--adapter jax" in changed and "--budget 60" in changed and "--threads 4" in changed
    assert "--contracts none" in report.command_line(fake_report(**{**SETTINGS, "contracts": "none"}))


@pytest.mark.parametrize("terminal, width", [(False, 80), (True, 50)])
def test_the_rendered_title_pastes_back_whole_and_the_caption_has_the_versions(terminal, width):
    console = Console(file=io.StringIO(), force_terminal=terminal, width=width, color_system=None)
    report.show(fake_report(**SETTINGS), console)
    text = console.file.getvalue()
    title = text[:text.index("┏")].rstrip("\n")
    assert len(title.splitlines()) > 1 and all(line.endswith(" \\") for line in title.splitlines()[:-1])
    assert not terminal or max(map(len, title.splitlines())) <= width  # broken by us, between flags, not by rich
    assert shlex.split(title.replace("\\\n", " ")) == shlex.split(report.command_line(fake_report(**SETTINGS)))
    caption = " ".join(text[text.index("┘"):].split())  # as words: a narrow terminal wraps it
    assert "optgold 0.1.0, torch 2.13.0+cpu" in caption and "timeout 60 s per case" in caption
    assert "budget 120 s" in caption and "2 torch threads" in caption


def test_a_report_without_settings_keeps_the_short_title():
    assert report.command_line(fake_report()) == "optgold check torch.optim:Adam --reference adam"
    console = piped_console()
    report.show(fake_report(), console)
    assert console.file.getvalue().startswith("optgold check torch.optim:Adam --reference adam\n")
