"""optgold list: every reference with its hyperparameters, variants and case count."""
from optgold import reference
from optgold.commands import EXIT_PASSED

NAME = "list"


def add_parser(subparsers):
    return subparsers.add_parser(NAME, help="list the references, their hyperparameters and case counts")


def run(args, console):
    from rich.table import Table

    from optgold.golden.grid import GRID

    t = Table("reference", "hyperparameters (torch defaults)", "variants", "cases")
    for name, module in reference.OPTIMIZERS.items():
        hp = ", ".join(f"{k}={v}" for k, v in module.DEFAULTS.items())
        t.add_row(name, hp, ", ".join(v for v in module.VARIANTS if v != "torch"), str(len(GRID.get(name, []))))
    console.print(t)
    console.print(schedulers_table())
    console.print(averaging_table())
    return EXIT_PASSED


def averaging_table():
    """SWA and EMA: checked along golden optimizer trajectories."""
    from rich.table import Table

    from optgold.reference import averaging
    from optgold.averaging_check import CASES

    t = Table("averaging", "hyperparameters", "variants", "cases")
    for name, cases in CASES.items():
        hp = ", ".join(f"{k}={v}" for k, v in averaging.DEFAULTS[name].items())
        t.add_row(name, hp, ", ".join(v for v in averaging.VARIANTS if v != "torch"), str(len(cases)))
    return t


def schedulers_table():
    """The scheduler references: torch's arguments (required ones marked), variants, case count."""
    from rich.table import Table

    from optgold.golden.schedules import GRID
    from optgold.reference import schedulers

    t = Table("scheduler", "hyperparameters (torch defaults)", "variants", "cases")
    for name, module in schedulers.SCHEDULERS.items():
        hp = ", ".join(k if k in module.REQUIRED else f"{k}={v}" for k, v in module.DEFAULTS.items())
        t.add_row(name, hp, ", ".join(v for v in module.VARIANTS if v != "torch"), str(len(GRID.get(name, []))))
    return t
