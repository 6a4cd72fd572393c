"""The small CIFAR run: golden training trajectories of a small convolutional network.

The problem (data, network, learning-rate schedule) lives here, beside the code that
writes and reads its goldens, because the generator needs it and the suite reuses it:

    binary       the CIFAR-10 binary format: reader (and a writer, for tests)
    synthetic    the generated CIFAR-shaped stand-in used when no CIFAR-10 is on disk
    data         which data a run uses, preprocessing, batches, identity hash
    model        the network, its seeded initialization, loss and gradient in float64
    schedule     learning-rate schedules, in plain Python
    fingerprint  per-tensor norms and seeded random projections of the parameters
    lanes        the plain-Python reference formulas run on whole tensors at once
    grid         the CIFAR cases
    generate     write the goldens;  load: read and validate them
    reproduce    how closely a float64 re-run must match a stored golden
    walk         re-walk a stored golden, certified step by step, for the suite to replay along
"""
