"""The base of every config model: strict (unknown keys are errors), frozen, documented per
field; and where a server's password comes from (never the password itself, unless literal)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, SecretStr, model_validator

from exporter.config.plain import PlainSettings, read_password


class Strict(BaseModel):
    """A config block: unknown keys are errors, values are frozen, fields carry their docs."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    def plain(self) -> PlainSettings:
        """These settings as plain data, for worker processes (config/plain.py)."""
        fields = {name: getattr(self, name) for name in type(self).model_fields}
        if isinstance(fields.get("password"), SecretStr):
            fields["password"] = fields["password"].get_secret_value()
        return PlainSettings(fields)


class PasswordSource(Strict):
    """Where a server engine's password comes from: an environment variable or a file."""

    password_env: str | None = None
    """Name of the environment variable holding the password (recommended)."""
    password_file: Path | None = None
    """Path of a file whose first line is the password (e.g. a mounted secret)."""
    password: SecretStr | None = None
    """A literal password: accepted for local experiments, with a warning; never logged."""

    @model_validator(mode="after")
    def _one_password_source(self) -> PasswordSource:
        given = [k for k in ("password_env", "password_file", "password") if getattr(self, k)]
        if len(given) > 1:
            raise ValueError(
                f"give only one of password_env, password_file, password (got {given})"
            )
        return self

    def read_password(self) -> str | None:
        """The password, read now from its source; None when the login needs none."""
        secret = self.password.get_secret_value() if self.password else None
        return read_password(self.password_env, self.password_file, secret)
