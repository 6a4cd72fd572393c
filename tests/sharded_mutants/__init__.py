"""Sharded optimizers written as they ship, once correctly and then with one realistic sharding bug each.

``zero``: ZeroRedundancyOptimizer subclasses over torch.optim.Adam (optgold's ``zero`` sharding
builds an IMPL that is a ZeroRedundancyOptimizer subclass as it is). ``fsdp2``: LAMB and Muon
written for FSDP2's DTensor shards (tests/mutants' hand-written ones, with the shard-local
shortcut a sharded port takes). Each mutant differs from its base in one place, marked ``# BUG``.
"""
