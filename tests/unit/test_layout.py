"""exporter/layout.py: output paths, folder names for catalog names, temp names."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exporter.layout import (
    CHUNK_FILE_PATTERN,
    ExportLayout,
    is_temp_file,
    safe_component,
    temp_path,
)
from exporter.model import TableRef

# Catalog names: any text, with the troublesome characters drawn often.
NAMES = st.lists(
    st.one_of(
        st.sampled_from(["/", "\\", "%", ".", "..", "\x00", "\x1f", "\x7f", "\n", " ", "é"]),
        st.characters(codec="utf-8"),
    ),
    min_size=1,
    max_size=12,
).map("".join)
_FORBIDDEN = re.compile(r"[/\\\x00-\x1f\x7f]")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("EMPLOYEES", "EMPLOYEES"),
        ("a/b", "a%2Fb"),
        ("a\\b", "a%5Cb"),
        (".hidden", "%2Ehidden"),
        (".", "%2E"),
        ("..", "%2E."),
        ("a.b", "a.b"),  # only a *leading* dot is hidden/special
        ("100%", "100%25"),
        ("tab\there", "tab%09here"),
        ("nl\n", "nl%0A"),
        ("nul\x00", "nul%00"),
        ("del\x7f", "del%7F"),
        ("Ünïcode 😀 with spaces", "Ünïcode 😀 with spaces"),
    ],
)
def test_safe_component_examples(name: str, expected: str) -> None:
    assert safe_component(name) == expected


@given(NAMES)
def test_safe_component_is_a_plain_reversible_folder_name(name: str) -> None:
    safe = safe_component(name)
    assert not _FORBIDDEN.search(safe)
    assert not safe.startswith(".")
    assert unquote(safe, errors="strict") == name  # '%' is encoded too, so this inverts it
    assert Path(safe).name == safe  # exactly one path component


@given(NAMES, NAMES)
def test_distinct_names_map_to_distinct_folders(a: str, b: str) -> None:
    if a != b:
        assert safe_component(a) != safe_component(b)


def test_distinct_tables_get_distinct_folders(tmp_path: Path) -> None:
    layout = ExportLayout(tmp_path)
    tables = [
        TableRef("HR", "a/b"),
        TableRef("HR", "a%2Fb"),
        TableRef("HR/a", "b"),
        TableRef("HR", ".."),
        TableRef("HR", "%2E%2E"),
        TableRef("..", "HR"),
    ]
    folders = [layout.table_dir(t) for t in tables]
    assert len(set(folders)) == len(tables)
    for folder in folders:
        # Always exactly root/<schema>/<table>, never escaping or nesting deeper.
        assert folder.parent.parent == tmp_path
        assert ".." not in folder.relative_to(tmp_path).parts


def test_paths_of_one_table(tmp_path: Path) -> None:
    layout = ExportLayout(tmp_path)
    t = TableRef("HR", "EMPLOYEES")
    base = tmp_path / "HR" / "EMPLOYEES"
    assert layout.summary_report() == tmp_path / "summary_report.json"
    assert layout.table_dir(t) == base
    assert layout.chunk_file(t, 3) == base / "data_chunk_3.csv.gz"
    assert layout.config_dir(t) == base / "config"
    assert layout.plan_file(t) == base / "config" / "plan.json"
    assert layout.metadata_file(t) == base / "config" / "metadata.json"
    assert layout.validation_sql_file(t) == base / "config" / "validation.sql"
    assert layout.schema_file(t) == base / "config" / "schema.json"
    assert layout.load_command_file(t) == base / "config" / "load_command.sh"
    assert layout.chunk_stats_file(t, 3) == base / "config" / "chunks" / "data_chunk_3.json"
    assert layout.chunk_wildcard(TableRef("a/b", "c d")) == "a%2Fb/c d/data_chunk_*.csv.gz"


def test_chunk_file_names_match_the_chunk_pattern(tmp_path: Path) -> None:
    layout = ExportLayout(tmp_path)
    for index in (0, 7, 12345):
        name = layout.chunk_file(TableRef("s", "t"), index).name
        match = CHUNK_FILE_PATTERN.match(name)
        assert match and int(match.group(1)) == index


def test_existing_chunk_files_sees_only_complete_chunks(tmp_path: Path) -> None:
    layout = ExportLayout(tmp_path)
    t = TableRef("S", "T")
    assert layout.existing_chunk_files(t) == {}  # no folder yet
    folder = layout.table_dir(t)
    folder.mkdir(parents=True)
    for name in [
        "data_chunk_0.csv.gz",
        "data_chunk_12.csv.gz",
        "data_chunk_x.csv.gz",
        "data_chunk_1.csv",
        "data_chunk_2.csv.gz.bak",
        "notes.txt",
    ]:
        (folder / name).write_bytes(b"x")
    temp_path(layout.chunk_file(t, 5)).write_bytes(b"partial")
    (folder / "config").mkdir()
    assert layout.existing_chunk_files(t) == {
        0: folder / "data_chunk_0.csv.gz",
        12: folder / "data_chunk_12.csv.gz",
    }


def test_temp_path_is_hidden_in_the_same_folder(tmp_path: Path) -> None:
    final = tmp_path / "S" / "T" / "data_chunk_3.csv.gz"
    tmp = temp_path(final)
    assert tmp.parent == final.parent  # same filesystem: the rename is atomic
    # The pid and a token drawn once per process: no other process, on any machine writing
    # to a shared folder, makes the same name.
    assert re.fullmatch(rf"\.data_chunk_3\.csv\.gz\.{os.getpid()}-[0-9a-f]{{8}}\.tmp", tmp.name)
    assert temp_path(final) == tmp
    assert is_temp_file(tmp)
    assert not CHUNK_FILE_PATTERN.match(tmp.name)


@given(st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,30}", fullmatch=True))
def test_every_temp_name_is_recognised_and_no_final_name_is(name: str) -> None:
    final = Path("/out") / name
    assert is_temp_file(temp_path(final))
    assert not is_temp_file(final)


@pytest.mark.parametrize(
    "name",
    ["data_chunk_0.csv.gz", "plan.json", ".gitkeep", "x.tmp", ".x.tmp", "a.b.c.tmp", ".tmp"],
)
def test_is_temp_file_rejects_other_names(name: str) -> None:
    assert not is_temp_file(Path(name))


def test_empty_table_name_gets_its_own_folder(tmp_path: Path) -> None:
    layout = ExportLayout(tmp_path)
    empty, config = TableRef("main", ""), TableRef("main", "config")
    assert layout.table_dir(empty).parent == tmp_path / "main"
    assert layout.config_dir(empty) != layout.table_dir(config)
