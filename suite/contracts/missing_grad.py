"""missing_grad: a parameter whose .grad is None does not take the step.

torch.optim skips a parameter without a gradient: it does not move (no weight decay
either), its state is not made or changed, and its step count does not advance; a step
where every gradient is None changes nothing. A zero gradient is different: it is an
ordinary step, so momentum decays, weight decay applies and the count advances. The
golden's events (golden/contracts.py) freeze tensor 1 for steps 1-8 and unfreeze it, give
no gradient at all at step 15, and zero tensor 0's gradient for steps 10-12.

What ships broken here: None treated as zero (momentum keeps moving a frozen layer,
decay shrinks it), a step count advanced for every parameter, state made for a
parameter that never had a gradient.
"""
NAME = "missing_grad"
DESCRIPTION = ".grad None for some steps (frozen, then unfrozen), a step with every .grad None, and zero gradients"


def rows(module):
    return [("frozen_unfrozen_all_none_zero", "missing_grad", {}, {})]
