"""optgold list: every reference of every kind, with its hyperparameters, variants and case count."""
from optgold.commands import EXIT_PASSED

NAME = "list"


def add_parser(subparsers):
    return subparsers.add_parser(NAME, help="list the references, their hyperparameters and case counts")


def run(args, console):
    from optgold import kinds
    from optgold.report import print_whole

    for kind in kinds.KINDS.values():
        print_whole(console, kind.listing())  # outside a terminal, as wide as the names need
    return EXIT_PASSED
