"""The run a merchant hands DANA, timed against DANA's latency (issue 28, part 6).

    .venv/bin/python bench/twin.py [--repeat 1]      (root: it makes network namespaces, as tests/twin does)

The DANA twin under DANA's hostnames (tests/twin/harness.py) injects DANA-like latency, 150 ms before every
API answer and every form post, 1 s before every hosted page load (conformance/sandbox/faults.py); `dana-uat run --target sandbox`
runs the mandatory scenarios and the whole catalogue, one at a time (the default against DANA) and four at a
time. Wall time, median of the repeats, goes into bench/results.json under "twin, ..."; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

from tests.twin.harness import TwinRun, namespace_problem  # noqa: E402

# A page load is the GET of a document (1 s); a form's POST, answered by a redirect, costs a round trip (150 ms)
LATENCY = {"faults": [{"match": "api", "kind": "latency", "ms": 150},
                      {"match": "page", "kind": "latency", "ms": 1000, "method": "GET"},
                      {"match": "page", "kind": "latency", "ms": 150, "method": "POST"}]}
RUNS = {   # name -> (run arguments, concurrency)
    "twin, mandatory, concurrency 1": (["--target", "sandbox"], "1"),
    "twin, mandatory, concurrency 4": (["--target", "sandbox"], "4"),
    "twin, full catalogue, concurrency 1": (["--target", "sandbox", "--all"], "1"),
    "twin, full catalogue, concurrency 4": (["--target", "sandbox", "--all"], "4"),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    problem = namespace_problem()
    if problem:
        print(f"bench/twin.py: {problem}", file=sys.stderr)
        return 2
    results = {}
    with tempfile.TemporaryDirectory(prefix="dana-uat-bench-twin-") as tmp:
        plan = Path(tmp, "latency.json")
        plan.write_text(json.dumps(LATENCY))
        twin = TwinRun(Path(tmp, "twin"))
        for name, (run_args, concurrency) in RUNS.items():
            walls, outcome = [], ""
            for n in range(args.repeat):
                env = {**twin.merchant_env(), "DANA_UAT_CONCURRENCY": concurrency}
                started = time.perf_counter()
                result = twin.run(run_args, env, twin_args=["--faults", str(plan)],
                                  name=f"{len(results)}-{n}")
                walls.append(time.perf_counter() - started)
                outcome = next((line for line in result.stdout.splitlines()
                                if line.startswith("dana-uat: ") and " passed, " in line), f"exit {result.exit}")
            results[name] = {"wallSeconds": round(statistics.median(walls), 2), "min": round(min(walls), 2),
                             "max": round(max(walls), 2), "outcome": outcome.removeprefix("dana-uat: "),
                             "latency": "150 ms per API call and form post, 1 s per page load (GET)"}
            print(f"{name:42} {results[name]['wallSeconds']:7.2f} s  {results[name]['outcome']}", flush=True)
    path = BENCH / "results.json"
    data = json.loads(path.read_text()) if path.exists() else {"results": {}}
    data.setdefault("results", {}).update(results)
    data["twin"] = {"command": f"python bench/twin.py --repeat {args.repeat}", "loadavg": list(os.getloadavg())}
    path.write_text(json.dumps(data, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
