"""Validation: the source's figures (COUNT(*), exact sums) against the same figures read back
from the written files and those the workers recorded, giving a verdict per table.

It reads plans and files and queries sources; it never imports export/ (the export run calls
it, and so will other pipelines).
"""
