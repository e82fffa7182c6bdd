"""Entry point of a measured subprocess: ``python -m benchmarks.child TASK ARGS_JSON``.

``TASK`` is ``module:function`` inside ``benchmarks``; the function gets the decoded
arguments and returns a JSON-able dict, written (with this process's own peak RSS) to
the path in ``BENCH_RESULT``. Only the standard library is imported before the task, so
the task's own imports are part of what it measures.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import sys
import time
from typing import Any


def main(argv: list[str]) -> int:
    """Run one task and write its result."""
    task, payload = argv[0], argv[1]
    module_name, func_name = task.split(":")
    started = time.perf_counter()
    func = getattr(importlib.import_module(f"benchmarks.{module_name}"), func_name)
    result: dict[str, Any] = func(**json.loads(payload))
    result["task_s"] = time.perf_counter() - started
    result["self_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = os.environ.get("BENCH_RESULT")
    if out:
        with open(out, "w", encoding="utf-8") as f:
            json.dump(result, f)
    else:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
