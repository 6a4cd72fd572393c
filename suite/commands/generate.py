"""optgold generate [--check] [--reference NAME|path.py]: write the goldens, or prove the stored ones are reproduced.

Without --golden-dir (or $OPTGOLD_GOLDEN_DIR) the goldens go to the packaged folder when that
is a source checkout's, where the shipped goldens are rebuilt; an installed package's folder is
never written, so they go to the user cache instead (store.generate_dir), and the command says
how to check against them there.
"""
import shlex

from optgold.golden import store
from optgold.commands import EXIT_FAILED, EXIT_PASSED, UsageError
from optgold.commands.arguments import add_problem_arguments

NAME = "generate"


def add_parser(subparsers):
    p = subparsers.add_parser(NAME, help="write the goldens from the reference formulas")
    p.add_argument("--check", action="store_true", help="regenerate and prove the stored files are reproduced")
    p.add_argument("--golden-dir", metavar="DIR", help="where goldens live (default: the packaged ones; an "
                   "installed package's are never written: generate then writes to the user cache)")
    p.add_argument("--reference", metavar="NAME", help="only this optimizer reference's goldens; a path/to/my_ref.py "
                   "is a reference from outside optgold (its goldens go to --golden-dir)")
    add_problem_arguments(p)
    return p


def _how_to_use(root, console):
    """Checks read the packaged goldens unless told otherwise: say how to point them at ``root``."""
    if not store.same_dir(root, store.golden_dir()):
        console.print(f"checks read them with --golden-dir {shlex.quote(str(root))} or "
                      f"OPTGOLD_GOLDEN_DIR={shlex.quote(str(root))}", highlight=False, soft_wrap=True)


def _generate_cifar(args, console):
    from optgold.cifar import command
    from optgold.golden.cifar import data as cifar_data
    from optgold.golden.cifar.load import generate_root

    if args.check:
        return command.generate(args, console)
    data_name = cifar_data.CIFAR10 if cifar_data.resolve_dir(args.cifar_dir) else None
    args.golden_dir = generate_root(args.golden_dir, data_name)
    code = command.generate(args, console)
    if args.golden_dir is not None:
        _how_to_use(args.golden_dir, console)
    return code


def run(args, console):
    if args.reference and args.problem == "cifar":
        raise UsageError("--reference with --problem cifar: the CIFAR goldens are generated together")
    if args.problem == "cifar":
        return _generate_cifar(args, console)
    from optgold import external, reference
    from optgold.golden import generate

    names = None
    if args.reference:
        names = [external.resolve(args.reference, args.golden_dir)]
        reference.get(names[0])  # an unknown name is a usage error before any work
    from optgold.progress import CheckProgress

    with CheckProgress(console, "checking goldens" if args.check else "generating goldens", "cases") as shown:
        def progress(ref_name, case_id):
            shown.item(f"{ref_name}/{case_id}")

        if args.check:
            directory = store.golden_dir(args.golden_dir)
            problems = generate.check(directory, progress, names)
            for name, problem in sorted(problems.items()):
                console.print(f"[red]not reproduced[/] {name}: {problem}")
            if problems:
                return EXIT_FAILED
            console.print(f"[green]reproduced[/]: every golden in {directory} regenerates byte for byte")
            return EXIT_PASSED
        directory = store.generate_dir(args.golden_dir)
        manifest = generate.generate(directory, progress, names)
    console.print(f"wrote {sum(f['cases'] for f in manifest['files'].values())} cases in "
                  f"{len(manifest['files'])} files to {directory}", highlight=False, soft_wrap=True)
    _how_to_use(directory, console)
    return EXIT_PASSED
