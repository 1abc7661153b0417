"""runtime/progress.py: the drainer counts every row report the workers sent, then stops."""

from __future__ import annotations

import multiprocessing
from typing import Any

from exporter.runtime.progress import Progress, QueueDrainer


class _Counting(Progress):
    def __init__(self) -> None:
        super().__init__(1, None, enabled=False)
        self.counted: list[tuple[str, int]] = []

    def add_rows(self, table: str, rows: int) -> None:
        self.counted.append((table, rows))


def _report(q: Any, table: str, n: int) -> None:
    for i in range(n):
        q.put((table, i))


def test_every_report_sent_before_close_is_counted_and_the_thread_ends() -> None:
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    progress = _Counting()
    drainer = QueueDrainer(q, progress)
    senders = [ctx.Process(target=_report, args=(q, f"t{k}", 500)) for k in range(2)]
    for p in senders:
        p.start()
    for p in senders:
        p.join()
    drainer.close()
    assert sorted(progress.counted) == sorted((f"t{k}", i) for k in range(2) for i in range(500))
    assert not drainer._thread.is_alive()
