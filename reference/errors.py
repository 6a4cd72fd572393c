"""The one base of every usage error: bad input that the person running optgold can fix.

An unknown reference, an IMPL that cannot be loaded, a missing or corrupt golden, bad
data, a wrong command-line value: each is a UsageError whose message says what to fix.
The command line prints it on one line and exits 2. It lives here, at the bottom of the
one-way flow reference -> golden -> suite, so that every layer can raise it.
"""


class UsageError(Exception):
    """Bad input; the message says what to fix (exit code 2)."""
