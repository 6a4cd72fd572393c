"""How one rank holds a sharded optimizer: one class per sharding, run inside each rank (optgold.ranks).

Every sharding has the same small protocol, which the rank's loop calls:

    Sharding(factory, hyperparameters, tensors, groups, schedule, order, rank, world)
        builds IMPL over this rank's view of the parameters (``tensors``: full float tensors,
        every rank the same values; given to IMPL in ``order``, tensor numbers, where set);
        raises what IMPL raises
    step(grads, absent)     .grad of each tensor from its full (reduced) gradient, as the engine
                            holds it on this rank; None for the tensors in ``absent``; one step
    local()                 (params, state): what this rank holds, as View rows (state_names set)
    set_lr(lr), hyperparameter_groups()
    save(directory), load(directory)  the optimizer's and scheduler's state through files, as a
                            checkpoint written with one world size and read with another

The gradients are the reduced ones a data-parallel backward leaves (DDP's average, FSDP's
reduce-scatter): the golden gradient, of this rank's shard. SHARDINGS is the registry: a sharding is
one module here (its class subclassing base.Sharding) and one entry in it. DeepSpeed's are there
whether or not it is installed: they import it inside the ranks, and a check that names one
without it is a usage error naming the extra.
"""
from optgold.shardings import deepspeed_zero, fsdp2, torch_zero

SHARDINGS = {s.NAME: s for s in (torch_zero.Zero, fsdp2.Fsdp2, deepspeed_zero.DeepSpeedZero1,
                                 deepspeed_zero.DeepSpeedZero2, deepspeed_zero.DeepSpeedZero3)}
