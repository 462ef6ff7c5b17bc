"""Each engine trains and parses in a subprocess, so its peak memory and times are its own."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Run:
    seconds: float
    peak_rss_mb: float
    returncode: int
    cpu_s: float = 0.0  # user + system CPU time: what a busy machine does not inflate


def measured(cmd: list[str], log: Path, cwd: Path | None = None, env: dict | None = None) -> Run:
    """Run `cmd`, output to `log`; wall time and the child's peak RSS (wait4's ru_maxrss)."""
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, env={**os.environ, **(env or {})}
        )
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(
        time.perf_counter() - started,
        usage.ru_maxrss / 1024.0,
        proc.returncode,
        usage.ru_utime + usage.ru_stime,
    )


def tail(log: Path, lines: int = 15) -> str:
    text = log.read_text(encoding="utf-8", errors="replace").replace("\r", "\n")
    return "\n".join(text.splitlines()[-lines:])
