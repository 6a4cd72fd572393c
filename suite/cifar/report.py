"""The terminal view of a CIFAR check: the case table, then the run's loss and accuracy beside the golden's."""
from rich.table import Table

from optgold import report as base


def _accuracy(golden, impl, split):
    def one(evaluation):
        return f"{evaluation[split]['accuracy']:.1%}" if evaluation else "-"
    return f"{one(golden)} / {one(impl)}"


def run_table(result_report):
    t = Table(title="the run beside the golden (final parameters; accuracy by a float32 forward pass)",
              title_justify="left")
    free = any(c.details.get("free_run") for c in result_report.cases)
    columns = ["case", "steps", "golden loss, first -> last 10", "train acc golden / impl", "test acc golden / impl"]
    if free:
        columns += ["free run loss, first -> last 10", "free run test acc"]
    for column in columns:
        t.add_column(column, justify="left" if column == "case" else "right")
    for c in result_report.cases:
        d = c.details
        golden, impl = d.get("golden_evaluation"), d.get("evaluation")
        row = [c.id, f"{d.get('steps_run', 0)}/{d.get('steps', '?')}", _curve(d.get("golden_loss") or []),
               _accuracy(golden, impl, "train"), _accuracy(golden, impl, "test")]
        if free:
            run = d.get("free_run")
            row += [_curve(run["loss"]) + (f" ({run['message']})" if run["message"] else "") if run else "-",
                    f"{run['evaluation']['test']['accuracy']:.1%}" if run and run["evaluation"] else "-"]
        t.add_row(*row)
    return t


def _curve(loss):
    """Mean batch loss of the first and of the last 10 steps."""
    return f"{sum(loss[:10]) / 10:.3f} -> {sum(loss[-10:]) / 10:.3f}" if len(loss) >= 10 else ""


def show(result_report, console):
    console.print(f"data: {result_report.extra['data']}", highlight=False)
    base.print_whole(console, base.table(result_report))
    base.print_whole(console, run_table(result_report))
    for line in base.details(result_report):
        console.print(line, highlight=False)
    console.print(base.summary(result_report))
