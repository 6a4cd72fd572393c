"""The CIFAR check: an implementation trained along the golden network run, in replay form.

    tolerance   the replay rounding model of suite/tolerance.py, accumulated step by step
    replay      one case: gradients at the golden parameters, the implementation stepped on them
    judge       each step's parameters, state and step counts against the golden's
    diagnose    which named variant a divergent run matches
    check       every CIFAR case of a reference;  report: the terminal view
    command     the --problem cifar branches of `optgold check` and `optgold generate`

The problem itself (data, network, schedule, fingerprints) lives in golden/cifar/.
"""
