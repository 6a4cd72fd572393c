"""optgold check IMPL --reference NAME: an implementation against a reference's goldens, whatever its kind."""
from optgold.commands import EXIT_FAILED, EXIT_PASSED, UsageError
from optgold.commands.arguments import add_problem_arguments, parse_impl_arg

NAME = "check"


def add_parser(subparsers):
    from optgold.adapters import ADAPTERS
    from optgold.contracts import CONTRACTS
    from optgold.shardings import SHARDINGS

    p = subparsers.add_parser(NAME, help="check an implementation against a reference's goldens")
    p.add_argument("impl", metavar="IMPL", help="package.module:Attr or path/to/file.py:Attr")
    p.add_argument("--reference", required=True, metavar="NAME", help="reference name, see `optgold list`; or "
                   "path/to/my_ref.py, a reference from outside optgold, with --golden-dir")
    p.add_argument("--dtype", choices=("float64", "float32", "bfloat16", "float16"), default="float64",
                   help="bfloat16 and float16 (optimizers): each step judged from the implementation's own state")
    p.add_argument("--master-weights", choices=("float32",), help="with --dtype bfloat16 or float16: IMPL keeps "
                   "float32 master weights and float32 state; the parameters it exposes are judged against the "
                   "golden within a float32 run's tolerance plus one rounding to the dtype (replay)")
    p.add_argument("--rounding", choices=("nearest", "stochastic", "kahan"), default="nearest",
                   help="with --dtype bfloat16 or float16: how IMPL's parameters take their update: rounded to "
                   "nearest (torch), stochastically rounded (each value one of its two neighbours, upward roundings "
                   "tested for bias), or Kahan-compensated (parameter + --compensation judged)")
    p.add_argument("--compensation", default="kahan_comp", metavar="NAME",
                   help="with --rounding kahan: the state buffer holding the compensation (default kahan_comp)")
    p.add_argument("--inner-precision", choices=("bfloat16",), help="IMPL computes the step's inner iteration in "
                   "bfloat16 whatever the params' dtype, as torch.optim.Muon does its Newton-Schulz: each step is "
                   "judged from its own state within that rounding's measured spread")
    p.add_argument("--compile", action="store_true", help="run IMPL's step under torch.compile (inductor; the "
                   "lr held as a tensor): the report adds the compile time and recompile count")
    p.add_argument("--world-size", type=int, metavar="N", help="run IMPL sharded on N ranks of torch.distributed "
                   "(gloo, on 127.0.0.1); params and state are gathered and judged every step")
    p.add_argument("--sharding", choices=sorted(SHARDINGS), default="zero",
                   help="with --world-size: " + "; ".join(f"{n}: {s.DESCRIPTION}" for n, s in SHARDINGS.items()))
    p.add_argument("--resume-world-size", type=int, metavar="M", help="with --world-size: the resume contract "
                   "saves the state on N ranks and loads it on M (default: N)")
    p.add_argument("--master-port", type=int, default=0, metavar="PORT", help="with --world-size: the ranks' "
                   "store port on 127.0.0.1 (default 0: any free port)")
    p.add_argument("--cases", metavar="ID,...", help="only these cases (their ids, as the table shows them)")
    p.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    p.add_argument("--mode", choices=("free", "replay", "both"), default="both")
    p.add_argument("--adapter", choices=sorted(ADAPTERS), default=None,
                   help="how IMPL is driven (default: the adapter that recognises IMPL, else torch: a "
                   "torch.optim.Optimizer or a factory returning one)")
    p.add_argument("--contracts", default="all", metavar="all|none|NAME,...",
                   help="the contract cases run beside the formula grid (default all; `optgold list` shows which "
                   "apply): " + "; ".join(f"{n}: {c.DESCRIPTION}" for n, c in CONTRACTS.items()))
    p.add_argument("--impl-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="fixed extra keyword for every construction, e.g. fused=true (repeatable)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.add_argument("--report", metavar="DIR", help="also write an HTML report to DIR (index.html, its PNG figures, "
                   "data.json): per case |error| / tolerance over the steps, trajectories on 2-D problems, the named "
                   "variants' distances")
    p.add_argument("--golden-dir", metavar="DIR", help="read goldens from DIR (default: $OPTGOLD_GOLDEN_DIR "
                   "or the packaged ones)")
    p.add_argument("--timeout", type=float, metavar="SECONDS",
                   help="per case and mode; a hung implementation fails the case (default 30; with --problem "
                   "cifar, 120 per step)")
    p.add_argument("--budget", type=float, metavar="SECONDS",
                   help="for the whole check: cases still to run when it is spent fail as not run (default 300; "
                   "with --problem cifar, 3600)")
    p.add_argument("--threads", type=int, metavar="N",
                   help="torch threads of the implementation's process (default 1: fastest on a loaded machine)")
    add_problem_arguments(p)
    p.add_argument("--loss-curve", metavar="PNG", help="with --problem cifar: also train IMPL on its own "
                   "gradients, and draw its loss curve beside the golden's (shown, not judged)")
    return p


def _modes(args, kind):
    """--mode: both (the default) is every mode of the kind; free or replay are the optimizer kind's."""
    if args.mode == "both":
        return None
    if args.mode not in kind.MODES:
        raise UsageError(f"--mode {args.mode}: the {kind.NAME} kind's modes are {', '.join(kind.MODES)}; leave "
                         "--mode out")
    return (args.mode,)


def _kind(args):
    from optgold import kinds

    return kinds.kind_of(args.reference, args.problem)  # an UnknownReference names every kind's references


def _validate(args, kind):
    from optgold.commands.outputs import check_output_path

    if args.json:
        check_output_path(args.json, "--json")
    if args.loss_curve:
        check_output_path(args.loss_curve, "--loss-curve")
    if args.report:
        from optgold.html_report import check_directory

        check_directory(args.report)
    if args.loss_curve and args.problem != "cifar":
        raise UsageError("--loss-curve needs --problem cifar")
    if args.loss_curve and not args.loss_curve.lower().endswith(".png"):
        raise UsageError(f"--loss-curve {args.loss_curve}: give a .png path")
    if args.problem == "cifar" and args.reference not in kind.references():
        raise UsageError(f"--problem cifar has no run of {args.reference!r}; it has "
                         f"{', '.join(sorted(kind.references()))}")
    if args.problem == "cifar" and args.mode == "free":
        raise UsageError("--problem cifar is checked in replay form only: gradients are recomputed at the golden "
                         "parameters each step, because a free run of a network drifts from any golden by rounding "
                         "alone; use --mode replay (or leave --mode out)")


def run(args, console):
    from optgold import external, report
    from optgold.check import Options, check, validate
    from optgold.loading import load_impl
    from optgold.progress import CheckProgress

    args.reference = external.resolve(args.reference, args.golden_dir)
    kind = _kind(args)
    _validate(args, kind)
    options = Options(dtype=args.dtype, master_weights=args.master_weights, rounding=args.rounding,
                      compensation=args.compensation, inner_precision=args.inner_precision, compile=args.compile,
                      world_size=args.world_size, sharding=args.sharding, resume_world_size=args.resume_world_size,
                      master_port=args.master_port,
                      cases=tuple(args.cases.split(",")) if args.cases else None, device=args.device, impl_args=dict(parse_impl_arg(a) for a in args.impl_arg),
                      timeout=args.timeout, budget=args.budget, threads=args.threads, golden_dir=args.golden_dir,
                      adapter=args.adapter, contracts=args.contracts, modes=_modes(args, kind),
                      cifar_dir=args.cifar_dir, free_run=bool(args.loss_curve))
    validate(options, kind)
    factory = load_impl(args.impl)
    with CheckProgress(console, f"checking {args.impl} against {args.reference}") as progress:
        options.progress = progress.step
        if kind.NAME == "network":
            from optgold.cifar import command

            result = command.check(args, factory, options, progress)
        else:
            result = check(factory, args.reference, impl=args.impl, options=options, progress=progress)
    if kind.NAME == "network":
        command.show(args, console, result)
    else:
        report.show(result, console)
    if args.json:
        report.write_json(result, args.json)
    if args.report:
        from optgold import html_report

        index = html_report.write([result], args.report)
        console.print(f"wrote the report to {index}", highlight=False)
    return EXIT_PASSED if result.passed else EXIT_FAILED
