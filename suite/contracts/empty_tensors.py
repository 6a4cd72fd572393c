"""empty_tensors: zero-size tensors first, in the middle and last, and a 0-dim tensor, among ordinary ones.

Every tensor with elements is judged at every step; the empty ones must stay empty. A
foreach kernel that skipped its launch because the last tensor of a list was empty left
the tensors before it unupdated (pytorch#100701), and a 0-dim tensor reshaped as a
vector or a row breaks shape-dependent code.
"""
NAME = "empty_tensors"
DESCRIPTION = "zero-size tensors at the first, a middle and the last position, and a 0-dim tensor"


def rows(module):
    return [("first_middle_last", "empty_tensors", {}, {})]
