"""The command line (DESIGN section 2); the only place exceptions become exit codes.

./run.sh --config F                  export (the default command), then validate
./run.sh export --config F [--table SCHEMA.TABLE ...] [--workers N] [--no-validate]
./run.sh plan --config F             show tables, sizes, strategies, chunk counts
./run.sh validate --config F         re-run validation on what is on disk
./run.sh check --config F            connect; show the version, the privileges an export needs,
                                     and each table's strategy (no chunk is cut)
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from exporter.config import load_config
from exporter.errors import (
    ERR_UNEXPECTED,
    EXIT_OK,
    EXIT_TABLE_FAILED,
    EXIT_USAGE,
    ExporterError,
    error,
)
from exporter.logs import setup_logging
from exporter.version import __version__

if TYPE_CHECKING:
    from exporter.api import CheckReport
    from exporter.export.planner import PlannedTable

log = logging.getLogger("exporter.cli")

COMMANDS = ("export", "plan", "validate", "check", "compare")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="exporter",
        description="Parallel, resumable, verified export to gzip CSV for BigQuery.",
    )
    parser.add_argument("--version", action="version", version=f"exporter {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", required=True, help="the YAML config file")
    common.add_argument(
        "--debug", action="store_true", help="run chunks inline in one process and show tracebacks"
    )
    common.add_argument(
        "--table",
        action="append",
        default=[],
        metavar="SCHEMA.TABLE",
        help="only this table (repeatable)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    export = sub.add_parser("export", parents=[common], help="export, then validate (default)")
    export.add_argument("--workers", type=int, help="worker processes (overrides the config)")
    export.add_argument("--no-validate", action="store_true", help="skip the validation stage")
    export.add_argument(
        "--revalidate",
        action="store_true",
        help="validate every table, also those proved before whose files have not changed",
    )
    export.add_argument("--no-progress", action="store_true", help="never draw progress bars")
    sub.add_parser("plan", parents=[common], help="show the plan; write nothing")
    validate = sub.add_parser("validate", parents=[common], help="re-run validation on the files")
    for runs_tasks in (export, validate):
        runs_tasks.add_argument(
            "--dask",
            metavar="ADDRESS",
            help="run on the Dask cluster of this scheduler, e.g. tcp://host:8786 (overrides"
            " executor:)",
        )
    sub.add_parser("check", parents=[common], help="connect and show what an export would do")
    compare = sub.add_parser(
        "compare", parents=[common], help="compare the tables of two databases (source, target)"
    )
    compare.add_argument("--resume", metavar="ID", help="go on with a session (any unique prefix)")
    compare.add_argument(
        "--retry-failed", action="store_true", help="with --resume: run failed tables again"
    )
    compare.add_argument("--workers", type=int, help="worker processes (overrides the config)")
    compare.add_argument("--no-progress", action="store_true", help="never draw progress bars")
    shown = compare.add_mutually_exclusive_group()
    shown.add_argument("--list-sessions", action="store_true", help="list the sessions and stop")
    shown.add_argument("--status", metavar="ID", help="show a session's progress and stop")
    shown.add_argument(
        "--cleanup", metavar="DAYS", type=float, help="delete sessions not updated for DAYS"
    )
    compare.add_argument(
        "--with-reports", action="store_true", help="with --cleanup: delete their reports too"
    )
    return parser


def _with_default_command(argv: list[str]) -> list[str]:
    first = next(
        (a for a in argv if not a.startswith("-") or a in ("-h", "--help", "--version")), None
    )
    if argv and first not in COMMANDS and first not in ("-h", "--help", "--version"):
        return ["export", *argv]
    return argv


def _print_plan(planned: Sequence[PlannedTable]) -> None:
    print(f"{'TABLE':<40} {'SIZE':>12} {'STRATEGY':<9} {'CHUNKS':>6}  REASON")
    for item in planned:
        if item.plan is None:
            print(
                f"{item.table.qualified:<40} {'':>12} {'ERROR':<9} {'':>6}  "
                f"{item.error.one_line() if item.error else ''}"
            )
            continue
        p = item.plan
        note = " (frozen plan reused)" if item.reused else ""
        print(
            f"{p.table.qualified:<40} {p.size_bytes:>12} {p.strategy:<9} {len(p.chunks):>6}  "
            f"{p.reason}{note}"
        )


def _print_check(report: CheckReport) -> None:
    print(f"connected to {report.target}: {report.server_version}")
    if report.client:
        print(f"client: {report.client}")
    print(f"row hashes by {report.row_hash_code}")
    print(f"Python rows encoded by {report.row_encoder}")
    print(f"chunk files read back by {report.readback_code}")
    print("privileges:")
    for probe in report.probes:
        print(f"  {'ok' if probe.ok else 'missing':<8} {probe.name}: {probe.detail}")
    print(f"{'TABLE':<40} {'SIZE':>12} {'STRATEGY':<10} {'CHUNKS':>6}  REASON")
    for item in report.tables:
        if item.error is not None:
            print(f"{str(item.table):<40} {'':>12} {'ERROR':<10} {'':>6}  {item.error.one_line()}")
            continue
        # The frozen plan's count, or (~) the count aimed at: no chunk has been cut.
        chunks = str(item.chunks) if item.frozen or item.chunks == 1 else f"~{item.chunks}"
        note = " (frozen plan reused)" if item.frozen else ""
        print(
            f"{str(item.table):<40} {item.size_bytes:>12} {item.strategy:<10} {chunks:>6}  "
            f"{item.reason}{note}"
        )


def _run(args: argparse.Namespace) -> int:
    from exporter import api

    if args.command == "compare":
        from exporter.cli_compare import run_compare_command

        return run_compare_command(args)
    config = load_config(args.config)
    if args.command == "check":
        report = api.check(config, args.table)
        _print_check(report)
        return EXIT_OK if all(t.error is None for t in report.tables) else EXIT_TABLE_FAILED
    if args.command == "plan":
        planned = api.plan(config, args.table)
        _print_plan(planned)
        return EXIT_OK if all(p.error is None for p in planned) else EXIT_TABLE_FAILED
    if args.command == "validate":
        run = api.validate(config, only=args.table, dask=args.dask)
    else:
        run = api.export(
            config,
            only=args.table,
            workers=args.workers,
            inline=args.debug,
            validate=False if args.no_validate else None,
            show_progress=False if args.no_progress else None,
            debug=args.debug,
            revalidate=args.revalidate,
            dask=args.dask,
        )
    failed = [r for r in run.results if r.status != "SUCCEEDED"]
    print(
        f"{len(run.results) - len(failed)} of {len(run.results)} table(s) succeeded; "
        f"report: {api.summary_report_path(config)}"
    )
    return EXIT_OK if not failed else EXIT_TABLE_FAILED


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run the command, and turn errors into one line and an exit code."""
    args_list = _with_default_command(list(sys.argv[1:] if argv is None else argv))
    parser = _parser()
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # argparse already printed the usage line
        return EXIT_OK if exc.code == 0 else EXIT_USAGE
    setup_logging(debug=args.debug)
    try:
        return _run(args)
    except ExporterError as exc:
        if args.debug:
            raise
        print(exc.one_line(), file=sys.stderr)
        if getattr(args, "resume_hint", None):  # a comparison session was under way
            print(f"after fixing the cause, {args.resume_hint}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        resume = getattr(args, "resume_hint", None) or "re-run the same command to resume"
        print(f"interrupted: {resume}", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so in one line unless --debug
        if args.debug:
            raise
        bug = error(ERR_UNEXPECTED, kind=type(exc).__name__, detail=exc)
        print(bug.one_line(), file=sys.stderr)
        return bug.exit_code
