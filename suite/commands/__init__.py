"""One module per ``optgold`` subcommand: ``add_parser(subparsers)`` and ``run(args, console) -> exit code``."""
from optgold.reference.errors import UsageError

EXIT_PASSED, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

__all__ = ["EXIT_FAILED", "EXIT_PASSED", "EXIT_USAGE", "UsageError"]
