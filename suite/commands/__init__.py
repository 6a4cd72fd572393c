"""One module per ``optgold`` subcommand: ``add_parser(subparsers)`` and ``run(args, console) -> exit code``."""
EXIT_PASSED, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A command-line mistake; the message says what to fix (exit code 2)."""
