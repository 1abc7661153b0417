"""Two versions of the exporter on one config, in alternating pairs: the paired differences.

export_bench.py compares variants against psql|pigz -1 in round-robin runs; on a shared
2-core machine a median moves by up to 0.1x from run to run, more than a change of a few
per cent. This script runs the same export with this checkout's `exporter/` and with
another version's (`--base-code DIR`, a `git archive` of its `exporter/` with the C
extensions copied in), one after the other, `--pairs` times, and reports each side's
median wall time and CPU time and the median of the paired differences (this minus base),
which shares the noise of each moment between the two sides. Both sides' bytecode is
compiled first.

CPU time is the whole command's: the coordinator's and every process it waited for (its
workers, or the forkserver that waited for them), from the kernel's accounting (wait4).
The output folder named by the config is deleted before each run.

    .venv/bin/python bench/paired_bench.py --config bench/out/configs/tool-bulk-validate.yaml \\
        --base-code /tmp/base --pairs 8
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent


def run_once(code: Path, config: Path, extra: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one export run from `code`."""
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    shutil.rmtree(settings["export"]["output_dir"], ignore_errors=True)
    argv = [sys.executable, "-m", "exporter", "export", "--config", str(config), "--no-progress"]
    started = time.monotonic()
    proc = subprocess.Popen(
        [*argv, *extra], cwd=code, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        message = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        raise SystemExit(f"{code}: exit {proc.returncode}\n{message[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--base-code", type=Path, required=True, help="holds the other exporter/")
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument("extra", nargs="*", help="more arguments for `exporter export`")
    args = parser.parse_args()
    config = args.config.resolve()
    # Both sides with their bytecode compiled, as an installation has it (export_bench.py).
    for code in (REPO, args.base_code):
        compileall.compile_dir(code / "exporter", quiet=1)
    this, base = [], []
    for pair in range(args.pairs):
        this.append(run_once(REPO, config, args.extra))
        base.append(run_once(args.base_code.resolve(), config, args.extra))
        print(
            f"pair {pair + 1}: this {this[-1][0]:.2f} s {this[-1][1]:.2f} CPU-s, "
            f"base {base[-1][0]:.2f} s {base[-1][1]:.2f} CPU-s",
            flush=True,
        )
    for index, name in ((0, "wall s"), (1, "CPU s")):
        mine = statistics.median(r[index] for r in this)
        theirs = statistics.median(r[index] for r in base)
        paired = statistics.median(a[index] - b[index] for a, b in zip(this, base, strict=True))
        print(f"{name}: this {mine:.2f}, base {theirs:.2f}, paired difference {paired:+.3f}")
    print(f"nproc {os.cpu_count()}")


if __name__ == "__main__":
    main()
