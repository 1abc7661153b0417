"""The library API, one function per command: plan, check, export, validate, compare (and the
comparator's sessions). cli.py only parses arguments, calls these and prints what they return;
a program can call them the same way
(`import exporter; exporter.export(exporter.load_config("config.yaml"))`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from exporter.config.models import ExecutorSettings, ExportConfig
from exporter.export.planner import PlannedTable, plan_export
from exporter.export.results import ExportRun
from exporter.layout import ExportLayout
from exporter.sources import get_source

if TYPE_CHECKING:
    from exporter.compare.run import CompareRun, RunOptions
    from exporter.compare.sessions import SessionStore
    from exporter.config.compare import CompareConfig
    from exporter.export.preflight import TableOutline
    from exporter.sources.probes import Probe


@dataclass(frozen=True)
class CheckReport:
    """What `check` found: where it connected, the server's version, the client library and
    its mode, which code computes row hashes, encodes Python rows and reads files back here,
    what the session may do that an export needs or would use, and what an export would do
    with each table."""

    target: str
    server_version: str
    client: str
    row_hash_code: str
    row_encoder: str
    readback_code: str
    probes: list[Probe]
    tables: list[TableOutline]


def plan(config: ExportConfig, only: Sequence[str] = ()) -> list[PlannedTable]:
    """Each selected table's plan (a stored one where the table was planned before), or the
    error that keeps it from being exported; nothing is written."""
    source = get_source(config.source)
    source.prepare()
    layout = ExportLayout.at(config.export.output())
    return plan_export(source, config.export, layout, only, write=False)


def check(config: ExportConfig, only: Sequence[str] = ()) -> CheckReport:
    """Connect, read the server's version and the client's mode, probe the privileges an
    export needs, and tell each selected table's size and strategy without cutting it into
    chunks (export/preflight.py). Nothing is written."""
    from exporter.canonical import rowhash, rows
    from exporter.export.preflight import preflight
    from exporter.validation import readback_scan

    source = get_source(config.source)
    source.prepare()
    layout = ExportLayout.at(config.export.output())
    with source.session() as conn:
        version = source.server_version(conn)
        client = source.client_driver(conn)
        found = preflight(conn, source, config.export, layout, only)
    return CheckReport(
        target=source.describe_target(),
        server_version=version,
        client=client,
        row_hash_code=rowhash.implementation(),
        row_encoder=rows.implementation(),
        readback_code=readback_scan.implementation(),
        probes=found.probes,
        tables=found.tables,
    )


def export(
    config: ExportConfig,
    *,
    only: Sequence[str] = (),
    workers: int | None = None,
    inline: bool = False,
    validate: bool | None = None,
    show_progress: bool | None = None,
    debug: bool = False,
    revalidate: bool = False,
    dask: str | None = None,
) -> ExportRun:
    """Export every selected table, then (unless `validate` is False, or the config turns it
    off) validate it: a table proved before whose files have not changed keeps its verdict
    unless `revalidate`. `dask` (a scheduler's address) overrides the config's executor. The
    run's records are in the output folder or store when this returns."""
    from exporter.export.run import run_export

    return run_export(
        on_dask(config, dask),
        only=only,
        workers=workers,
        inline=inline,
        validate=validate,
        show_progress=show_progress,
        debug=debug,
        revalidate=revalidate,
    )


def validate(
    config: ExportConfig, *, only: Sequence[str] = (), dask: str | None = None
) -> ExportRun:
    """Check the files written against the source as it is now, and rewrite the records;
    `dask` (a scheduler's address) overrides the config's executor for the read-back."""
    from exporter.export.revalidate import validate_existing

    return validate_existing(on_dask(config, dask), only=only)


def on_dask(config: ExportConfig, address: str | None) -> ExportConfig:
    """`config` with its tasks sent to the Dask scheduler at `address` (`--dask`), if given."""
    if address is None:
        return config
    executor = ExecutorSettings(kind="dask", address=address)
    return config.model_copy(update={"executor": executor})


def summary_report_path(config: ExportConfig) -> str:
    """Where `export` and `validate` write summary_report.json for this config (a path, or
    a store's URL)."""
    return str(ExportLayout.at(config.export.output()).summary_report())


def compare(
    config: CompareConfig,
    *,
    config_file: str,
    resume: str | None = None,
    options: RunOptions | None = None,
    on_session: Callable[[str, bool], None] | None = None,
) -> CompareRun:
    """Compare the tables of `config.source` and `config.target` in a new session, or go on
    with the session `resume` names (any unique prefix of its id)."""
    from exporter.compare.run import RunOptions, run_compare

    return run_compare(
        config,
        config_file=config_file,
        resume=resume,
        options=options or RunOptions(),
        on_session=on_session,
    )


def compare_sessions(config: CompareConfig) -> SessionStore:
    """The sessions kept where `config` keeps them: list, status, cleanup."""
    from exporter.compare.run import layout_of
    from exporter.compare.sessions import SessionStore

    return SessionStore(layout_of(config))
