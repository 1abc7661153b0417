"""The comparator: prove that two databases hold the same rows, table by table, chunk by chunk,
in sessions that can be stopped and resumed at any moment.

planner.py and plan.py decide each table's key ranges; task.py and drill.py compare one chunk
inside both databases (figures first, rows only where they differ); sessions.py keeps the
state, plans and checkpoints; tables.py and run.py drive a run; reports.py writes what was
found. The SQL lives with each engine in sources/ (Dialect.chunk_figures and friends).
"""
