"""The ``optgold`` command line; each subcommand lives in suite/commands/.

Exit codes: 0 every case that ran passed and one did; 1 a case failed or none ran;
2 a usage error, an unknown reference, an IMPL that cannot be loaded, or goldens
that are missing or fail their hash; 130 interrupted (Ctrl-C), as a shell reports SIGINT.
"""
import argparse
import sys

from rich.console import Console

from optgold.commands import EXIT_USAGE, UsageError
from optgold.commands import bench, check, generate, history, listing

COMMANDS = [check, generate, listing, bench, history]
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a job ended by Ctrl-C


def build_parser():
    parser = argparse.ArgumentParser(prog="optgold", description="Check optimizer implementations against "
                                     "golden trajectories from plain-Python reference formulas.")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def main(argv=None):
    """Run one subcommand; its usage errors and Ctrl-C end in one line on stderr, never a traceback."""
    try:
        args = build_parser().parse_args(argv)
        command = next(c for c in COMMANDS if c.NAME == args.command)
        return command.run(args, Console())
    except (UsageError, OSError) as error:  # OSError: e.g. the --json path cannot be written
        print(f"optgold: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("optgold: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
