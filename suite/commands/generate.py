"""optgold generate [--check] [--reference NAME|path.py]: write the goldens, or prove the stored ones are reproduced."""
from optgold.golden import store
from optgold.commands import EXIT_FAILED, EXIT_PASSED, UsageError
from optgold.commands.arguments import add_problem_arguments

NAME = "generate"


def add_parser(subparsers):
    p = subparsers.add_parser(NAME, help="write the goldens from the reference formulas")
    p.add_argument("--check", action="store_true", help="regenerate and prove the stored files are reproduced")
    p.add_argument("--golden-dir", metavar="DIR", help="where goldens live (default: the packaged ones)")
    p.add_argument("--reference", metavar="NAME", help="only this optimizer reference's goldens; a path/to/my_ref.py "
                   "is a reference from outside optgold (its goldens go to --golden-dir)")
    add_problem_arguments(p)
    return p


def run(args, console):
    if args.reference and args.problem == "cifar":
        raise UsageError("--reference with --problem cifar: the CIFAR goldens are generated together")
    if args.problem == "cifar":
        from optgold.cifar import command

        return command.generate(args, console)
    from optgold import external, reference
    from optgold.golden import generate

    names = None
    if args.reference:
        names = [external.resolve(args.reference, args.golden_dir)]
        reference.get(names[0])  # an unknown name is a usage error before any work
    directory = store.golden_dir(args.golden_dir)
    with console.status("generating goldens") as status:
        def progress(ref_name, case_id):
            status.update(f"generating goldens: {ref_name}/{case_id}")

        if args.check:
            problems = generate.check(directory, progress, names)
            for name, problem in sorted(problems.items()):
                console.print(f"[red]not reproduced[/] {name}: {problem}")
            if problems:
                return EXIT_FAILED
            console.print(f"[green]reproduced[/]: every golden in {directory} regenerates byte for byte")
            return EXIT_PASSED
        manifest = generate.generate(directory, progress, names)
    console.print(f"wrote {sum(f['cases'] for f in manifest['files'].values())} cases in "
                  f"{len(manifest['files'])} files to {directory}")
    return EXIT_PASSED
