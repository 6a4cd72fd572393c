"""The terminal view of a CIFAR check: the case table, then the run's loss and accuracy beside the golden's."""
from rich.table import Table

from suite import report as base


def _accuracy(golden, impl, split):
    def one(evaluation):
        return f"{evaluation[split]['accuracy']:.1%}" if evaluation else "-"
    return f"{one(golden)} / {one(impl)}"


def run_table(result_report):
    t = Table(title="the run beside the golden (final parameters; accuracy by a float32 forward pass)",
              title_justify="left")
    for column in ("case", "steps", "golden loss, first -> last 10", "train acc golden / impl",
                   "test acc golden / impl"):
        t.add_column(column, justify="left" if column == "case" else "right")
    for c in result_report.cases:
        loss = c.golden_loss or []
        curve = f"{sum(loss[:10]) / 10:.3f} -> {sum(loss[-10:]) / 10:.3f}" if len(loss) >= 10 else ""
        t.add_row(c.id, f"{c.steps_run}/{c.steps}", curve, _accuracy(c.golden_eval, c.evaluation, "train"),
                  _accuracy(c.golden_eval, c.evaluation, "test"))
    return t


def show(result_report, console):
    console.print(f"data: {result_report.data}", highlight=False)
    console.print(base.table(result_report))
    console.print(run_table(result_report))
    for line in base.details(result_report):
        console.print(line, highlight=False)
    console.print(base.summary(result_report))
