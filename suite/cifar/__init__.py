"""The CIFAR check: an implementation trained along the golden network run, in replay form.

    running_error  a running error bound of the formulas in the implementation's dtype
    replay      one case: gradients at the golden parameters, the implementation stepped on them
    judge       each step's parameters, state and step counts against the golden's
    diagnose    which named variant a divergent run matches
    free_run    IMPL trained on its own gradients: its loss curve beside the golden's, not judged
    check       every CIFAR case of a reference;  report: the terminal view
    command     the --problem cifar branches of `optgold check` and `optgold generate`

The problem itself (data, network, schedule, fingerprints) lives in golden/cifar/.
"""
