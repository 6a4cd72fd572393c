"""A long check's progress: a rich bar on a terminal; elsewhere (a pipe, a CI log) one line to
stderr every EVERY seconds, so a job that takes minutes never looks hung.

``CheckProgress`` is both of optgold.check's progress hooks: ``start(total)`` and
``__call__(result)`` (check's ``progress``) and ``step(case, step)`` (Options.progress);
``item(text)`` counts any other kind of item (the goldens `optgold generate` builds).
"""
import sys
import time

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

EVERY = 15.0  # seconds between lines outside a terminal


class CheckProgress:
    def __init__(self, console, label, unit="case-modes", stream=None):
        """``unit`` names what is counted; None: nothing is (only the running item and the time)."""
        self.console, self.label, self.unit, self.stream = console, label, unit, stream or sys.stderr
        self.total, self.done, self.at = None, 0, ""
        self.started = self.said = time.monotonic()
        self.bar = self.task = None

    def __enter__(self):
        if self.console.is_terminal:
            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), console=self.console, transient=True)
            self.bar.__enter__()
            self.task = self.bar.add_task(self.label, total=None)
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def start(self, total):
        self.total = total
        if self.bar is not None:
            self.bar.update(self.task, total=total)

    def __call__(self, result):
        """A case and mode ended."""
        self.done += 1
        self._show()

    def item(self, text):
        """An item began: ``text`` names it."""
        self.at = text
        self._show()
        self.done += 1

    def step(self, case, step):
        """A step of the running case ended."""
        steps = getattr(case, "steps", None)
        self.at = f"{case.reference}/{case.id} step {step}" + (f" of {steps}" if steps else "")
        self._show()

    def _show(self):
        if self.bar is not None:
            self.bar.update(self.task, completed=self.done, description=f"{self.label}: {self.at}")
            return
        now = time.monotonic()
        if now - self.said >= EVERY:
            self.said = now
            total = "" if self.total is None else f" of {self.total}"
            parts = [f"{self.done}{total} {self.unit} done"] if self.unit else []
            parts += [f"running {self.at}"] if self.at else []
            print(f"optgold: {self.label}: {', '.join(parts + [f'{now - self.started:.0f} s'])}", file=self.stream,
                  flush=True)
