"""Entry point of a stage's child process: `python -m bench.child STAGE KWARGS_JSON OUT_JSON`.

Writes `{"ok", "seconds", "peak_rss_mb", "details", "error"}` to OUT_JSON; a failing stage is
recorded there (one line, traceback in the log), so the suite goes on with the next stage.
"""

from __future__ import annotations

import json
import resource
import sys
import time
import traceback
from pathlib import Path


def peak_rss_mb() -> float:
    """Peak RSS of this process and of the processes it waited for (dbt, for one).

    Not `ru_maxrss` of RUSAGE_SELF: Linux carries the forking parent's high-water mark over
    exec into it, so every stage would show at least the suite's own RSS. /proc's VmHWM is the
    high-water mark of this process's own memory map, which exec starts afresh."""
    own_kb = 0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            own_kb = int(line.split()[1])
    children_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own_kb, children_kb) / 1024


def main(argv: list[str]) -> int:
    stage, kwargs, out = argv[0], json.loads(argv[1]), Path(argv[2])
    from bench import stages

    function = getattr(stages, stage)
    started = time.perf_counter()
    try:
        details = function(**kwargs)
        result = {"ok": True, "details": details, "error": None}
    except BaseException as exc:  # the suite records any failure of the stage and goes on
        traceback.print_exc()
        message = " ".join(str(exc).split())[:500]
        result = {"ok": False, "details": {}, "error": f"{type(exc).__name__}: {message}"}
    result["seconds"] = round(time.perf_counter() - started, 3)
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    out.write_text(json.dumps(result, default=str), encoding="utf-8")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
