"""The `compare` command: run or resume a session, or show and clean up sessions; printing
only (the work is api.compare and the session store's). Errors go back to cli.main, the only
place they become exit codes."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from exporter import api
from exporter.compare import reports
from exporter.compare.run import RunOptions
from exporter.config.loader import load_compare_config
from exporter.errors import ERR_USAGE, EXIT_OK, EXIT_TABLE_FAILED, error


def _check_flags(args: argparse.Namespace) -> None:
    looking = args.list_sessions or args.status or args.cleanup is not None
    if looking and (args.resume or args.retry_failed or args.table):
        raise error(
            ERR_USAGE,
            problem="--list-sessions, --status and --cleanup do not go with --resume, "
            "--retry-failed or --table",
        )
    if args.retry_failed and not args.resume:
        raise error(ERR_USAGE, problem="--retry-failed needs --resume ID (the failed session)")
    if args.with_reports and args.cleanup is None:
        raise error(ERR_USAGE, problem="--with-reports goes with --cleanup DAYS")


def _resume_command(args: argparse.Namespace, session_id: str) -> str:
    return f"./run.sh compare --config {shlex.quote(args.config)} --resume {session_id[:8]}"


def run_compare_command(args: argparse.Namespace) -> int:
    """`./run.sh compare ...`: the exit code (0: every table equal)."""
    _check_flags(args)
    config = load_compare_config(args.config)
    store = api.compare_sessions(config)
    if args.list_sessions:
        print(reports.sessions_list(store.sessions()))
        return EXIT_OK
    if args.status:
        print(reports.status_screen(store.load(store.find(args.status))))
        return EXIT_OK
    if args.cleanup is not None:
        removed = store.cleanup(args.cleanup, with_reports=args.with_reports)
        print(f"removed {len(removed)} session(s) not updated for {args.cleanup:g} day(s)")
        for line in removed:
            print(f"  {line}")
        return EXIT_OK

    def announce(session_id: str, resumed: bool) -> None:
        args.resume_hint = f"resume with {_resume_command(args, session_id)}"
        word = "resuming" if resumed else "new"
        print(f"{word} comparison session {session_id}", file=sys.stderr, flush=True)

    options = RunOptions(
        only=args.table,
        retry_failed=args.retry_failed,
        workers=args.workers,
        inline=args.debug,
        show_progress=False if args.no_progress else None,
        debug=args.debug,
    )
    config_file = str(Path(args.config).resolve())
    run = api.compare(config, config_file=config_file, resume=args.resume, options=options,
                      on_session=announce)  # fmt: skip
    print(reports.summary_text(run.figures, run.report_dir))
    if run.equal:
        return EXIT_OK
    failed = [t for k in run.tables if (t := run.session.tables[k]).status == "failed"]
    if failed:
        retry = f"{_resume_command(args, run.session.session_id)} --retry-failed"
        print(f"{len(failed)} table(s) failed; after fixing the cause: {retry}", file=sys.stderr)
    return EXIT_TABLE_FAILED
