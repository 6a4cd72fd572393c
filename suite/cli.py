"""The ``optgold`` command line; each subcommand lives in suite/commands/.

Exit codes: 0 every case that ran passed and one did; 1 a case failed or none ran;
2 a usage error, an unknown reference, an IMPL that cannot be loaded, or goldens
that are missing or fail their hash.
"""
import argparse
import sys

from rich.console import Console

from optgold.commands import EXIT_USAGE, UsageError
from optgold.commands import bench, check, generate, history, listing

COMMANDS = [check, generate, listing, bench, history]


def build_parser():
    parser = argparse.ArgumentParser(prog="optgold", description="Check optimizer implementations against "
                                     "golden trajectories from plain-Python reference formulas.")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    command = next(c for c in COMMANDS if c.NAME == args.command)
    try:
        return command.run(args, Console())
    except (UsageError, OSError) as error:  # OSError: e.g. the --json path cannot be written
        print(f"optgold: error: {error}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
