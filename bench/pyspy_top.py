"""Top functions of a py-spy profile of an exporter run, per process role.

Record a profile of one run (workers included) and summarise it:

    .venv/bin/pip install py-spy
    .venv/bin/py-spy record --subprocesses --format raw --rate 250 -o bench/out/profile/X.txt \\
        -- .venv/bin/python -m exporter export --config bench/out/configs/tool-bulk.yaml \\
        --no-progress --no-validate
    .venv/bin/python bench/pyspy_top.py bench/out/profile/X.txt

For each role (coordinator, worker; the resource tracker is skipped) it prints the functions
with the most samples where they are the innermost frame ("self") and anywhere on the stack
("total"), as a percentage of that role's samples. py-spy samples only threads that are
running (not idle), so a worker's percentages are shares of its busy time, helper threads
(the ISA-L compression thread) included.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

_PROCESS = re.compile(r'process \d+:"[^"]*";')


def _role(processes: list[str]) -> str:
    last = processes[-1]
    if "resource_tracker" in last:
        return "resource_tracker"
    if "spawn_main" in last:
        return "worker"
    return "coordinator"


def _short(frame: str) -> str:
    # `name (path/to/file.py:123)` -> `name (file.py)`; line numbers would split a function.
    match = re.match(r"(.*) \((.*?)(?::\d+)?\)$", frame)
    if not match:
        return frame
    name, where = match.groups()
    return f"{name} ({where.rsplit('/', 1)[-1]})"


def summarise(path: Path, top: int) -> str:
    """The report for one raw py-spy file."""
    self_counts: dict[str, Counter[str]] = {}
    total_counts: dict[str, Counter[str]] = {}
    samples: Counter[str] = Counter()
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        processes = _PROCESS.findall(stack + ";")
        frames_text = _PROCESS.sub("", stack + ";").rstrip(";")
        role = _role(processes) if processes else "coordinator"
        if role == "resource_tracker" or not frames_text:
            continue
        frames = [_short(f) for f in frames_text.split(";")]
        count = int(count_text)
        samples[role] += count
        self_counts.setdefault(role, Counter())[frames[-1]] += count
        totals = total_counts.setdefault(role, Counter())
        for frame in set(frames):
            totals[frame] += count
    out = [f"== {path.name}"]
    for role in ("worker", "coordinator"):
        n = samples[role]
        if not n:
            continue
        out.append(f"-- {role}: {n} samples")
        out.append("   self%  function")
        for frame, count in self_counts[role].most_common(top):
            out.append(f"   {100 * count / n:5.1f}  {frame}")
        out.append("   total%  function")
        for frame, count in total_counts[role].most_common(top + 12):
            if frame.startswith(("<module>", "_bootstrap", "run (", "BaseProcess", "spawn_main")):
                continue
            out.append(f"   {100 * count / n:6.1f}  {frame}")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the summary of each file given."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("files", nargs="+", type=Path, help="py-spy --format raw outputs")
    parser.add_argument("--top", type=int, default=15, help="functions per list")
    args = parser.parse_args(argv)
    for path in args.files:
        print(summarise(path, args.top))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
