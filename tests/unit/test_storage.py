"""exporter/storage.py with fsutil.py and layout.py on a store other than the local disk:
fsspec's in-memory file system (`memory://`), which has rename, so it takes the temp-name
path; and what a Cloud Storage root changes (names, URIs), without a server."""

from __future__ import annotations

import gzip
import os
import pickle
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from exporter.config import parse_config
from exporter.errors import ConfigError
from exporter.export.run import run_export
from exporter.export.writer import CsvGzipWriter
from exporter.fsutil import read_json, staging_file, sweep_partials, write_json
from exporter.layout import ExportLayout, is_temp_file, staging_path, temp_path
from exporter.model import TableRef
from exporter.sources.sqlite_demo import build_demo_database
from exporter.storage import RemotePath, StoreSpec, check_writable, list_names


@pytest.fixture()
def root() -> Iterator[RemotePath]:
    """A fresh folder in fsspec's in-memory store (one per test), removed afterwards."""
    spec = StoreSpec(f"memory://exp-{uuid.uuid4().hex[:8]}")
    opened = spec.open()
    assert isinstance(opened, RemotePath)
    yield opened
    if opened.fs.exists(opened.path):
        opened.fs.rm(opened.path, recursive=True)


def test_a_local_root_stays_a_path_and_file_urls_are_local(tmp_path: Path) -> None:
    assert StoreSpec(str(tmp_path)).open() == tmp_path
    assert StoreSpec(f"file://{tmp_path}").open() == tmp_path
    assert StoreSpec("relative/out").is_local and not StoreSpec("gs://b/p").is_local


def test_the_spec_pickles_and_never_shows_its_options() -> None:
    spec = StoreSpec("gs://bucket/run", (("token", "/secret/key.json"),))
    assert "secret" not in repr(spec) and "<hidden>" in repr(spec)
    assert pickle.loads(pickle.dumps(spec)) == spec


def test_paths_and_listing_in_a_store(root: RemotePath) -> None:
    layout = ExportLayout(root)
    table = TableRef("HR", "EMPLOYEES")
    chunk = layout.chunk_file(table, 3)
    assert isinstance(chunk, RemotePath)
    assert str(chunk) == f"{root}/HR/EMPLOYEES/data_chunk_3.csv.gz"
    assert chunk.name == "data_chunk_3.csv.gz" and chunk.parent == layout.table_dir(table)
    assert layout.existing_chunk_files(table) == {}  # no folder yet
    assert list_names(layout.table_dir(table)) == []
    write_json(chunk.with_name("data_chunk_0.csv.gz"), {})
    write_json(layout.plan_file(table), {"a": 1})
    assert layout.existing_chunk_files(table) == {0: chunk.with_name("data_chunk_0.csv.gz")}
    assert read_json(layout.plan_file(table)) == {"a": 1}
    assert layout.plan_file(table).stat().st_size == len('{\n  "a": 1\n}\n')
    assert layout.chunk_uris(table) is None  # not Cloud Storage: load_command.sh copies first


def test_names_a_url_would_misread_are_encoded_in_a_store_only(
    root: RemotePath, tmp_path: Path
) -> None:
    table = TableRef("S", "EMP#HIST?*[1]")
    assert ExportLayout(root).table_dir(table).name == "EMP%23HIST%3F%2A%5B1%5D"
    assert ExportLayout(tmp_path).table_dir(table).name == "EMP#HIST?*[1]"  # as before


def test_a_chunk_appears_only_complete_and_the_sweep_clears_partials(root: RemotePath) -> None:
    final = root / "S" / "T" / "data_chunk_0.csv.gz"
    writer = CsvGzipWriter(final, "a,b", level=None)
    staged = writer.tmp_path  # on this machine, under a name of its own, until complete
    assert staged.parent == staging_path(final).parent and staged.parent.is_dir()
    assert is_temp_file(staged) and staged.name != staging_path(final).name
    writer.write_bytes(b"1,2\n", 1)
    writer.finish()
    assert not final.exists() and list_names(final.parent) == []  # nothing there yet
    writer.publish()
    assert gzip.decompress(final.read_bytes()) == b"a,b\n1,2\n"
    assert not writer.tmp_path.exists()
    # A temp name left in the store by a process killed between its upload and its move.
    left = temp_path(root / "S" / "T" / "data_chunk_1.csv.gz")
    left.write_bytes(b"half")
    assert is_temp_file(left) and left.exists()
    assert sweep_partials(root) == 1
    assert not left.exists() and final.exists()


def test_an_aborted_writer_leaves_nothing_anywhere(root: RemotePath) -> None:
    final = root / "S" / "T" / "data_chunk_0.csv.gz"
    with pytest.raises(RuntimeError), CsvGzipWriter(final, "a", level=None) as writer:
        writer.write_bytes(b"1\n", 1)
        raise RuntimeError("a failed read")
    assert not final.exists() and not writer.tmp_path.exists()


def test_staged_uploads_of_dead_processes_are_removed(root: RemotePath) -> None:
    final = root / "x.json"
    dead = staging_path(final).with_name(f".{final.name}.999999999-0badf00d.tmp")
    dead.parent.mkdir(parents=True, exist_ok=True)
    dead.write_bytes(b"left by a killed worker")
    import exporter.fsutil as fsutil

    fsutil._uploads_swept = False  # as in a process that stages its first upload
    assert staging_file(final).parent == dead.parent
    assert not dead.exists()


def test_a_store_that_cannot_be_opened_is_one_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        StoreSpec("nosuchproto://x/y").open()
    assert caught.value.one_line().startswith("error EXP-1018: export.output_dir: cannot use")
    missing = tmp_path / "key.json"
    with pytest.raises(ConfigError) as caught:
        StoreSpec("gs://bucket/run", (("token", str(missing)),)).open()
    assert caught.value.key == "export.storage_options.token"
    assert f"key file {missing} not found" in caught.value.one_line()


def test_a_store_that_refuses_writes_is_one_config_error(root: RemotePath) -> None:
    class Refusing(RemotePath):
        def write_bytes(self, data: bytes) -> None:
            raise OSError("403 Forbidden")

    with pytest.raises(ConfigError) as caught:
        check_writable(ExportLayout(Refusing(root.fs, root.path)).write_probe())
    assert "403 Forbidden" in caught.value.one_line()
    probe = ExportLayout(root).write_probe()
    assert probe.parent == root and is_temp_file(probe)
    check_writable(probe)  # and a writable one passes, leaving nothing behind
    assert list_names(root) == []


def test_an_export_to_a_store_is_whole_and_validated(tmp_path: Path) -> None:
    """The whole pipeline, inline, with every file in the in-memory store: the same tables,
    the same records, SUCCEEDED, and a re-run carries every verdict over."""
    db = tmp_path / "demo.sqlite"
    build_demo_database(db)
    url = f"memory://run-{uuid.uuid4().hex[:8]}"
    export: dict[str, Any] = {"output_dir": url, "chunk_threshold_gb": 0.001, "chunk_size_mb": 1}
    config = parse_config({"source": {"engine": "sqlite", "path": str(db)}, "export": export})
    run = run_export(config, inline=True, show_progress=False)
    assert [r.status for r in run.results] == ["SUCCEEDED"] * len(run.results)
    layout = ExportLayout.at(config.export.output())
    orders = TableRef("main", "orders")
    assert len(layout.existing_chunk_files(orders)) > 1  # split, as in the demo
    report = read_json(layout.summary_report())
    assert report["status"] == "SUCCEEDED"
    assert {t["output_dir"] for t in report["tables"]} >= {str(layout.table_dir(orders))}
    assert read_json(layout.metadata_file(orders))["row_count_match"] is True
    assert layout.load_command_file(orders).exists() and layout.proof_file(orders).exists()
    assert not os.path.exists(url.replace("memory://", ""))  # nothing on the local disk
    again = run_export(config, inline=True, show_progress=False)
    assert all(r.carried_over and r.status == "SUCCEEDED" for r in again.results)
