"""optgold's harness: load an implementation, run it on golden cases, judge and report."""
