"""Parallel, resumable, verified export of database tables to gzipped CSV for BigQuery."""

__version__ = "0.1.0"
