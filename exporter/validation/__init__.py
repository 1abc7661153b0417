"""Validation: source figures vs the written files, metadata.json, validation.sql, reports."""
