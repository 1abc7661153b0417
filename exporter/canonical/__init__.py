"""The canonical text of values and rows (docs/FORMAT.md in code), shared by export and compare.

cells.py holds the reference: one value -> one CSV cell. Everything else here is a fast path
that must write the same bytes (tests compare each with cells.py): rows.py turns batches of
Python rows into records (in the optional C extension _rowtext.c, else a whole column at a
time with columns.py), arrow.py and arrow_text.py do
the same for Arrow record batches inside Arrow, and rowhash.py (with the optional C extension
_rowhash.c) hashes records and assembles the lines.
"""
