"""exporter/config: validation into one-line ConfigErrors, secrets, and pool sizing."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exporter.config import load_config, parse_config
from exporter.errors import ConfigError
from exporter.runtime.executors import worker_count
from exporter.sources.configs import PostgresSourceConfig, SqliteSourceConfig

REPO = Path(__file__).resolve().parents[2]
SECRET = "s3cr3t-Pa55w0rd-xyzzy"
PW_VAR = "EXPORTER_UNIT_TEST_PASSWORD"
UNSET_VAR = "EXPORTER_UNIT_TEST_SURELY_UNSET"


def sqlite_source(**extra: Any) -> dict[str, Any]:
    return {"engine": "sqlite", "path": "db.sqlite", **extra}


def pg_source(**extra: Any) -> dict[str, Any]:
    return {"engine": "postgresql", "host": "db", "database": "app", "user": "u", **extra}


def config_error(data: Any) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    line = info.value.one_line()
    assert "\n" not in line and line.startswith("error EXP-1001: ")
    return info.value


# -- unknown keys, engines, missing values --------------------------------------------------


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"source": sqlite_source(), "export": {"chunk_sise_mb": 1}}, "export.chunk_sise_mb"),
        ({"source": sqlite_source(pathh="x")}, "source.pathh"),
        ({"source": pg_source(hots="x")}, "source.hots"),
        ({"source": sqlite_source(), "bigquery": {"projekt": "p"}}, "bigquery.projekt"),
        ({"source": sqlite_source(), "validation": {"enable": True}}, "validation.enable"),
        ({"source": sqlite_source(), "exports": {}}, "exports"),
    ],
)
def test_unknown_key_is_named_by_its_dotted_path(data: dict[str, Any], key: str) -> None:
    err = config_error(data)
    assert err.key == key
    assert f"{key}: unknown key" in err.one_line()


def test_unknown_engine() -> None:
    err = config_error({"source": {"engine": "mysql", "host": "h"}})
    assert err.key == "source.engine"
    line = err.one_line()
    assert "mysql" in line
    for engine in ("oracle", "postgresql", "sqlite"):
        assert engine in line


def test_missing_required_value_is_named() -> None:
    err = config_error({"source": {"engine": "postgresql", "host": "h"}})
    assert err.key == "source.database"
    assert "source.database" in err.one_line() and "required" in err.one_line()


def test_out_of_range_value_is_named() -> None:
    err = config_error({"source": sqlite_source(), "export": {"cpu_percent": 0}})
    assert err.key == "export.cpu_percent"


@pytest.mark.parametrize("data", [None, [], "source: x", 3])
def test_top_level_must_be_a_mapping(data: Any) -> None:
    assert "mapping" in config_error(data).one_line()


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ({"engine": "oracle", "user": "u"}, "dsn"),
        (
            {"engine": "oracle", "user": "u", "dsn": "h/s", "lib_dir": "/opt/ic"},
            "thick_mode",
        ),
    ],
)
def test_oracle_source_checks(source: dict[str, Any], words: str) -> None:
    assert words in config_error({"source": source}).one_line()


def test_unknown_top_level_key_named_like_an_engine_is_named() -> None:
    err = config_error({"source": sqlite_source(), "postgresql": {"host": "h"}})
    assert err.key == "postgresql"


# -- ${VAR} expansion and passwords ---------------------------------------------------------


def test_unset_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(UNSET_VAR, raising=False)
    err = config_error({"source": sqlite_source(path=f"${{{UNSET_VAR}}}/db.sqlite")})
    assert err.key == "source.path"
    assert UNSET_VAR in err.one_line() and "source.path" in err.one_line()


def test_set_variable_is_expanded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPORTER_UNIT_TEST_DIR", "/data")
    config = parse_config(
        {
            "source": sqlite_source(path="${EXPORTER_UNIT_TEST_DIR}/db.sqlite"),
            "export": {"schemas": ["${EXPORTER_UNIT_TEST_DIR}"]},
        }
    )
    assert isinstance(config.source, SqliteSourceConfig)
    assert config.source.path == Path("/data/db.sqlite")
    assert config.export.schemas == ["/data"]


def test_password_env_pointing_at_unset_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PW_VAR, raising=False)
    err = config_error({"source": pg_source(password_env=PW_VAR)})
    assert err.key == "source.password_env"
    assert "source.password_env" in err.one_line() and PW_VAR in err.one_line()


def test_password_env_is_read_but_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PW_VAR, SECRET)
    config = parse_config({"source": pg_source(password_env=PW_VAR)})
    assert isinstance(config.source, PostgresSourceConfig)
    assert config.source.read_password() == SECRET
    for text in (repr(config), str(config), config.model_dump_json(), repr(config.model_dump())):
        assert SECRET not in text


def test_literal_password_is_read_but_never_shown(caplog: pytest.LogCaptureFixture) -> None:
    config = parse_config({"source": pg_source(password=SECRET)})
    assert isinstance(config.source, PostgresSourceConfig)
    assert config.source.read_password() == SECRET
    for text in (repr(config), str(config), config.model_dump_json(), repr(config.model_dump())):
        assert SECRET not in text
    assert "literal password" in caplog.text  # warned about
    assert SECRET not in caplog.text


def test_password_file_first_line(tmp_path: Path) -> None:
    secret_file = tmp_path / "pw"
    secret_file.write_text(SECRET + "\r\nsecond line\n")
    config = parse_config({"source": pg_source(password_file=str(secret_file))})
    assert isinstance(config.source, PostgresSourceConfig)
    assert config.source.read_password() == SECRET
    assert SECRET not in repr(config)
    err = config_error({"source": pg_source(password_file=str(tmp_path / "missing"))})
    assert err.key == "source.password_file"


@pytest.mark.parametrize(
    "source",
    [
        pg_source(password=SECRET, password_env=PW_VAR),  # two password sources
        pg_source(pasword=SECRET),  # misspelt key holding the secret
        pg_source(password=SECRET, port="not a port"),
        pg_source(password=SECRET, database=None),
        {"engine": "oracle", "user": "u", "password": SECRET},  # no dsn
    ],
)
def test_password_never_appears_in_config_errors(
    source: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PW_VAR, "x")
    err = config_error({"source": source})
    for text in (err.one_line(), str(err), repr(err), err.message, str(err.hint)):
        assert SECRET not in text


def test_unknown_engine_error_does_not_print_the_password() -> None:
    err = config_error({"source": {"engine": "mysql", "host": "h", "password": SECRET}})
    assert "mysql" in err.one_line()
    assert SECRET not in err.one_line()


# -- null_marker ----------------------------------------------------------------------------


@pytest.mark.parametrize("marker", ["a,b", ",", '"', "x\ny", "\r"])
def test_null_marker_with_csv_special_characters_is_rejected(marker: str) -> None:
    err = config_error({"source": sqlite_source(), "export": {"null_marker": marker}})
    assert "null_marker" in err.one_line()
    assert err.key is not None and err.key.startswith("export")


@pytest.mark.parametrize("marker", ["", "\\N", "NULL", "<null>"])
def test_safe_null_markers_are_accepted(marker: str) -> None:
    config = parse_config({"source": sqlite_source(), "export": {"null_marker": marker}})
    assert config.export.null_marker == marker


ORACLE = {"engine": "oracle", "host": "db", "service": "PDB1", "user": "u"}


@pytest.mark.parametrize(
    ("source", "fetch_path", "words"),
    [
        (ORACLE, "auto", "oracle cannot compute the row hash in the database"),
        (sqlite_source(), "auto", "sqlite cannot compute the row hash in the database"),
        (pg_source(), "batch", "only on its bulk path, which fetch_path: batch does not take"),
        (pg_source(), "rows", "fetch_path: rows"),
    ],
)
def test_a_database_row_hash_where_none_is_computed_is_refused(
    source: dict[str, Any], fetch_path: str, words: str
) -> None:
    # Never a silent fallback to the client's hash: one line naming the key, exit code 2.
    export = {"use_client_hash": False, "fetch_path": fetch_path}
    err = config_error({"source": source, "export": export})
    assert err.key == "export.use_client_hash" and err.exit_code == 2
    assert words in err.one_line()
    assert "use_client_hash: true" in err.one_line()  # the fix


@pytest.mark.parametrize(
    ("source", "export"),
    [
        (pg_source(), {"use_client_hash": False}),  # PostgreSQL's COPY path hashes (md5)
        (ORACLE, {"use_client_hash": False, "enable_row_hash": False}),  # no hash at all
        (ORACLE, {"use_client_hash": True}),
        (sqlite_source(), {}),
    ],
)
def test_row_hash_settings_that_can_be_honoured_are_accepted(
    source: dict[str, Any], export: dict[str, Any]
) -> None:
    config = parse_config({"source": source, "export": export})
    assert config.export.use_client_hash is export.get("use_client_hash", True)


# -- files ----------------------------------------------------------------------------------


def test_demo_config_loads() -> None:
    config = load_config(REPO / "config" / "demo.yaml")
    assert isinstance(config.source, SqliteSourceConfig)
    assert config.source.path == Path("demo_data/demo.sqlite")
    assert config.source.create_demo is True
    assert config.export.schemas == ["main"]
    assert config.export.chunk_threshold_gb == pytest.approx(0.001)
    assert config.export.chunk_size_mb == 1
    assert config.export.enable_row_hash is True
    assert config.bigquery.project == "my-project" and config.bigquery.dataset == "demo"
    # Defaults of keys the demo leaves out (DESIGN section 3).
    assert config.export.include == ["*"] and config.export.exclude == []
    assert config.export.null_marker is None and config.export.workers is None
    assert config.executor.kind == "local" and config.validation.enabled is True


def test_load_config_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.yaml")
    assert "not found" in info.value.one_line() and "nope.yaml" in info.value.one_line()


def test_load_config_bad_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("source:\n  engine: sqlite\n  path: [unclosed\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "not valid YAML" in info.value.one_line()
    assert "line" in info.value.one_line()


def test_load_config_unknown_key_from_file(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("source:\n  engine: sqlite\n  path: x.db\nexport:\n  chunk_sise_mb: 5\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.key == "export.chunk_sise_mb"


# -- pool sizing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("percent", "cores", "explicit", "expected"),
    [
        (50, 8, None, 4),
        (50, 1, None, 1),
        (50, 3, None, 1),
        (100, 3, None, 3),
        (33, 10, None, 3),
        (1, 64, None, 1),  # floor(0.64) = 0 -> at least one worker
        (75, 6, None, 4),  # floor(4.5)
        (50, 8, 7, 7),  # explicit wins
        (50, 8, 32, 32),
    ],
)
def test_worker_count(percent: int, cores: int, explicit: int | None, expected: int) -> None:
    assert worker_count(percent, cores, explicit) == expected


@given(st.integers(1, 100), st.integers(1, 1024))
def test_worker_count_formula(percent: int, cores: int) -> None:
    assert worker_count(percent, cores) == max(1, math.floor(Fraction(cores * percent, 100)))


def test_worker_count_uses_the_machine_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 6)
    assert worker_count(50) == 3
    monkeypatch.setattr("os.cpu_count", lambda: None)
    assert worker_count(50) == 1
