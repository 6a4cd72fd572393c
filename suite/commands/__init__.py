"""One module per ``optgold`` subcommand: ``add_parser(subparsers)`` and ``run(args, console) -> exit code``."""
from optgold.reference.errors import UsageError

EXIT_PASSED, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INCONCLUSIVE = 3  # optgold bench's gate could not show a verdict within its budget: never a pass

__all__ = ["EXIT_FAILED", "EXIT_INCONCLUSIVE", "EXIT_PASSED", "EXIT_USAGE", "UsageError"]
