"""The README and the shipped configs stay true to the code."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest
import yaml

from exporter.cli import _parser
from exporter.config.models import ExportConfig

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _flags(parser: argparse.ArgumentParser) -> set[str]:
    flags: set[str] = set()
    for action in parser._actions:  # argparse has no public accessor for its options
        flags.update(s for s in action.option_strings if s.startswith("--"))
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                flags.add(name)
                flags |= _flags(sub)
    return flags - {"--help"}


def test_every_command_and_flag_is_in_the_readme() -> None:
    missing = sorted(f for f in _flags(_parser()) if f not in README)
    assert not missing, f"README.md does not mention {missing}"


def test_quick_start_has_exactly_the_two_commands() -> None:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    assert block.group(1).split("\n")[:-1] == [
        "./run.sh --config config/demo.yaml",
        "./run.sh test",
    ]


@pytest.mark.parametrize("name", ["demo.yaml", "example-postgres.yaml", "example-oracle.yaml"])
def test_shipped_configs_are_valid(name: str) -> None:
    data = yaml.safe_load((ROOT / "config" / name).read_text(encoding="utf-8"))
    # The model alone: parse_config would also insist the password variable is set here.
    config = ExportConfig.model_validate(data)
    assert config.source.engine == data["source"]["engine"]


def _keys(model: type, prefix: str = "") -> set[str]:
    keys = set()
    for name, field in model.model_fields.items():  # type: ignore[attr-defined]
        keys.add(prefix + name)
        annotation = field.annotation
        if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
            keys |= _keys(annotation, f"{prefix}{name}.")
    return keys


def test_every_settings_key_is_in_the_readme() -> None:
    leaf = {k.rsplit(".", 1)[-1] for k in _keys(ExportConfig)}
    missing = sorted(k for k in leaf if not re.search(rf"\b{k}:", README))
    assert not missing, f"README.md's config reference lacks {missing}"
