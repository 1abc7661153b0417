"""The BigQuery side of an export: column types and names, schema.json, the `bq load` script,
and validation.sql, which repeats the export's checks inside BigQuery after loading."""
