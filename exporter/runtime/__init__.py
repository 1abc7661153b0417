"""Where tasks run, for either pipeline (export, compare): executors (a pool of spawned worker
processes, or inline), worker start-up, the per-process connection cache, and progress.

Kept light: a spawned worker imports this package before its signal set-up (worker_init.py).
"""
