"""The `rapport` command line: one subcommand per job of the pipeline."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

EXIT_OK, EXIT_CHECKS_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def _cmd_generate(args: argparse.Namespace) -> int:
    from rapport.generator.command import run_generate

    return run_generate(scale=args.scale, seed=args.seed, out=args.out, fmt=args.format)


def _cmd_build(args: argparse.Namespace) -> int:
    from rapport.pipeline.build import run_build

    return run_build(raw=args.raw, as_of=args.as_of, incremental=args.incremental,
                     engine=args.engine)


def _cmd_check(args: argparse.Namespace) -> int:
    from rapport.pipeline.build import run_check

    return run_check()


def _cmd_rollback(args: argparse.Namespace) -> int:
    from rapport.pipeline.build import run_rollback

    return run_rollback()


def _cmd_serve(args: argparse.Namespace) -> int:
    from rapport.serving.serve import run_serve

    return run_serve(port=args.port, address=args.address, as_user=args.as_user,
                     local=args.local)


def _cmd_check_access(args: argparse.Namespace) -> int:
    from rapport.serving.serve import access_problem

    problem = access_problem(args.address, args.local, args.as_user)
    if problem:
        print(f"rapport check-access: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    mode = "local mode (no login, this machine only)" if args.local else "OIDC login"
    print(f"rapport check-access: {mode} on {args.address}: the configuration is valid")
    return EXIT_OK


def _cmd_contract_docs(args: argparse.Namespace) -> int:
    from rapport.contract_docs import write_contract_docs

    return write_contract_docs(check_only=args.check)


def _cmd_import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rapport.pipeline.importer import run_import

    return run_import(
        source=Path(args.source),
        mapping=Path(args.mapping),
        out=Path(args.out) if args.out else None,
        report=Path(args.report) if args.report else None,
    )


def _cmd_demo(args: argparse.Namespace) -> int:
    """Import a team's own exports, build, check and serve, in one command."""
    from pathlib import Path

    from rapport.paths import raw_dir
    from rapport.pipeline.build import run_build
    from rapport.pipeline.importer import run_import
    from rapport.serving.serve import access_problem, run_serve

    problem = access_problem(args.address, args.local, None)
    if problem:  # refuse before importing and building, not after
        print(f"rapport demo: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    out = Path(args.out) if args.out else raw_dir()
    code = run_import(Path(args.source), Path(args.mapping), out, None)
    if code:
        return code
    code = run_build(raw=str(out), as_of=None, incremental=False)
    if code:
        return code
    return run_serve(port=args.port, address=args.address, as_user=None, local=args.local)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rapport",
        description="Relationship-health warehouse and dashboard for B2B key-account sales.",
    )
    sub = parser.add_subparsers(dest="command", metavar="<command>", required=True)

    def add(name: str, fn: Callable[[argparse.Namespace], int], help_: str):
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(func=fn)
        return p

    p = add("generate", _cmd_generate, "Generate deterministic synthetic CRM data.")
    p.add_argument("--scale", default="demo",
                   help="demo, bench, or a number of interactions (default: demo)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    p.add_argument("--out", default=None, help="output folder (default: data/raw)")
    p.add_argument("--format", choices=["csv", "parquet"], default="csv",
                   help="file format (default: csv)")

    p = add("build", _cmd_build,
            "Build a new warehouse from data/raw, check it, and publish it if the checks pass.")
    p.add_argument("--raw", default=None, help="raw input folder (default: data/raw)")
    p.add_argument("--as-of", default=None,
                   help="as-of date YYYY-MM-DD (default: latest event date in the data)")
    p.add_argument("--incremental", action="store_true",
                   help="reuse the served build and process only new interactions")
    p.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb",
                   help="where the dbt models run: duckdb (default) or spark (needs the spark "
                        "extra, pip install 'rapport[spark]', and Java 17; docs/scale-out.md). "
                        "Either way the marts end in the DuckDB file the dashboard serves")

    add("check", _cmd_check, "Re-run the data checks on the served warehouse.")
    add("rollback", _cmd_rollback, "Serve the previous good build again.")

    p = add("serve", _cmd_serve, "Serve the dashboard on the served warehouse.")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--address", default="127.0.0.1",
                   help="address to bind (default: 127.0.0.1, this machine only)")
    p.add_argument("--local", action="store_true",
                   help="local mode: no login, for a demo on this machine only (refused on a "
                        "non-loopback --address and when a login is configured)")
    p.add_argument("--as", dest="as_user", default=None,
                   help="with --local: act as this user e-mail of the users file")

    p = add("check-access", _cmd_check_access,
            "Check the login configuration and the users file as `rapport serve` would.")
    p.add_argument("--address", default="127.0.0.1")
    p.add_argument("--local", action="store_true", help="check local mode instead of OIDC")
    p.add_argument("--as", dest="as_user", default=None, help="with --local: this user")

    p = add("import", _cmd_import,
            "Import CRM exports into contract raw files through a mapping file (docs/import.md).")
    p.add_argument("source", help="folder holding the export files (one CSV per CRM object)")
    p.add_argument("--mapping", required=True,
                   help="mapping file (YAML), or a ready mapping: salesforce, hubspot, dynamics365")
    p.add_argument("--out", default=None, help="folder for the raw files (default: data/raw)")
    p.add_argument("--report", default=None,
                   help="folder for the report and quarantine (default: data/imports/<run>)")

    p = add("demo", _cmd_demo,
            "Import your CRM exports, build the warehouse and serve the dashboard.")
    p.add_argument("--from", dest="source", required=True, help="folder holding the export files")
    p.add_argument("--mapping", required=True, help="mapping file or ready mapping name")
    p.add_argument("--out", default=None, help="raw folder (default: data/raw)")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--address", default="127.0.0.1")
    p.add_argument("--local", action="store_true",
                   help="serve in local mode (no login, this machine only)")

    p = add("contract-docs", _cmd_contract_docs,
            "Write docs/data-contract.md from rapport/contract.yml.")
    p.add_argument("--check", action="store_true",
                   help="only check that the document is up to date (exit 1 if not)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
