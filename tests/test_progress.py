"""Progress outside a terminal: a line to stderr every EVERY seconds, so a long job never looks hung."""
import io

from rich.console import Console

from optgold import progress


class _Case:
    reference, id, steps = "adam", "plain", 200


def test_outside_a_terminal_a_line_comes_every_period(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: now[0])
    stream = io.StringIO()
    console = Console(file=io.StringIO(), force_terminal=False)
    with progress.CheckProgress(console, "checking X against adam", stream=stream) as shown:
        shown.start(22)
        for seconds, event in [(1, lambda: shown.step(_Case(), 5)), (16, lambda: shown(None)),
                               (17, lambda: shown.step(_Case(), 7)), (40, lambda: shown(None))]:
            now[0] = seconds  # 1 s and 17 s are too soon after the last line; 16 s and 40 s are not
            event()
    lines = stream.getvalue().splitlines()
    assert lines == ["optgold: checking X against adam: 1 of 22 case-modes done, running adam/plain step 5 of 200, 16 s",
                     "optgold: checking X against adam: 2 of 22 case-modes done, running adam/plain step 7 of 200, 40 s"]


def test_on_a_terminal_it_draws_a_bar_and_writes_no_lines():
    stream = io.StringIO()
    console = Console(file=io.StringIO(), force_terminal=True)
    with progress.CheckProgress(console, "generating goldens", "cases", stream=stream) as shown:
        shown.item("adam/plain")
        shown(None)
    assert stream.getvalue() == "" and shown.bar is not None


def test_a_piped_check_writes_its_progress_to_stderr_not_stdout(monkeypatch, capsys):
    from optgold import cli

    monkeypatch.setattr(progress, "EVERY", 0.0)
    assert cli.main(["check", "torch.optim:SGD", "--reference", "sgd", "--mode", "replay"]) == 0
    captured = capsys.readouterr()
    assert "optgold: checking torch.optim:SGD against sgd:" in captured.err
    assert "case-modes done" not in captured.out
