"""load_command.sh: the `bq load` of a table's chunk files from Cloud Storage: where the export
wrote them there (export.output_dir: gs://...), their real URIs; else after a copy step."""

from __future__ import annotations

import shlex

from exporter.bigquery.schema import destination
from exporter.config.models import BigQuerySettings
from exporter.layout import ExportLayout
from exporter.model import TablePlan
from exporter.version import __version__

BUCKET_PLACEHOLDER = "YOUR_BUCKET"


def load_script(plan: TablePlan, layout: ExportLayout, settings: BigQuerySettings) -> str:
    """load_command.sh: one `bq load` of every chunk file of the table, from Cloud Storage.

    Flags (https://cloud.google.com/bigquery/docs/reference/bq-cli-reference#bq_load and
    https://cloud.google.com/bigquery/docs/loading-data-cloud-storage-csv#csv-options):
    --skip_leading_rows=1 skips each file's header; --allow_quoted_newlines because text may
    hold newlines; --null_marker is the plan's marker, so NULL and '' stay apart;
    --preserve_ascii_control_characters keeps control characters that would otherwise fail
    the load; --replace so that running the script again does not double the rows that
    validation.sql counts.
    """
    project, dataset, table = destination(settings, plan.table)
    table_dir = layout.table_dir(plan.table)
    wildcard = layout.chunk_wildcard(plan.table)
    folder = wildcard.rsplit("/", 1)[0]
    uris = layout.chunk_uris(plan.table)
    lines = ["#!/bin/sh", f"# Load {plan.table} into BigQuery (written by exporter {__version__})."]
    if uris is None:
        source = f'"gs://${{GCS_BUCKET:-{BUCKET_PLACEHOLDER}}}/"{shlex.quote(wildcard)}'
        lines += [
            "# 1. Copy the chunk files to Cloud Storage, keeping the folder layout, e.g.",
            f"#      gcloud storage cp {shlex.quote(str(table_dir))}/data_chunk_*.csv.gz "
            f"gs://$GCS_BUCKET/{shlex.quote(folder)}/",
            "# 2. GCS_BUCKET=my-bucket sh load_command.sh",
        ]
    else:  # the export wrote them to Cloud Storage: their own URIs
        source = shlex.quote(uris)
        lines += [
            "# 1. The chunk files are in Cloud Storage already. Fetch this folder, e.g.",
            f"#      gcloud storage cp -r {shlex.quote(str(table_dir))}/config .",
            "#    and run: sh config/load_command.sh",
        ]
    lines += [
        "# Then run validation.sql (beside this file) in BigQuery: every *_ok column must be TRUE.",
        "set -eu",
        "bq load \\",
        "  --source_format=CSV \\",
        "  --skip_leading_rows=1 \\",
        "  --allow_quoted_newlines \\",
        f"  --null_marker={shlex.quote(plan.file_format.null_marker)} \\",
        "  --preserve_ascii_control_characters \\",
        "  --replace \\",
        '  --schema="$(dirname "$0")/schema.json" \\',
        f"  {shlex.quote(f'{project}:{dataset}.{table}')} \\",
        f"  {source}",
    ]
    return "\n".join(lines) + "\n"
