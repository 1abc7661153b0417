"""Where tasks run, for either pipeline (export, compare): executors (a pool of worker
processes, or inline), worker start-up, the per-process connection cache, and progress.

Kept light: a worker imports this package before its signal set-up (worker_init.py).
"""
