"""What every kind's run of one case provides to optgold.check.check_case, with the defaults most share."""
from optgold import hyperparameters


class Run:
    """One case in one mode. check_case calls construct(), then iterates steps(), then judge().

    construct() builds the implementation (raising hyperparameters.Skip for a configuration
    it cannot take, check.ConfigMismatch for one it does not hold); steps() steps it and
    yields the flat values of each step (their finiteness is checked by check_case), or None.
    """
    hyperparameters = None  # the keywords the implementation was built with
    default_dtype = None  # torch's default dtype while it runs; None: the check's dtype
    # What judge(), diagnose() and details() read: the worker process that runs the implementation
    # sends these attributes to the parent, which judges (optgold.isolation). Lists and dicts of
    # lists are sent as they grow; anything else is replaced, never changed in place.
    RECORDED = ("hyperparameters",)

    def construct(self):
        raise NotImplementedError

    def steps(self):
        raise NotImplementedError

    def finish(self):
        """After the last step, in the implementation's process: work that needs the implementation."""

    def judge(self):
        raise NotImplementedError

    def diagnose(self, judgement):
        """Which named variant or known bug the run matches (a Diagnosis), or None."""
        return None

    def plane(self):
        """For a problem made of 2-D copies: {"problem", "golden", "observed"} (rows of flat params) for the
        report's contour plot (optgold.problems.plane); None otherwise."""
        return None

    def details(self):
        """Kind-specific fields of the case's JSON result."""
        return {}

    def hyperparameters_shown(self):
        return hyperparameters.describe(self.hyperparameters or {})
