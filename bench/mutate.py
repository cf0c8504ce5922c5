"""Mutation testing of the rule-bearing modules (issue 29): runs mutmut slice by slice, writes bench/results.json.

    .venv/bin/python bench/mutate.py [--slice runinfo,bundle,...] [--children 1] [--fresh] [--report-only]

Which modules and which tests: ``[tool.mutmut]`` in pyproject.toml. mutmut copies the package to ``mutants/``,
learns once which test calls which function (a traced run of the selected tests, cached in ``mutants/``), then
runs each mutant against only those tests. Slices run one after another, one mutmut process at a time with
``--children`` test processes (default 1: the machine is shared); an interrupted run keeps every result so far
and the next run resumes. ``--report-only`` rewrites the figures from what ``mutants/`` already holds. mutmut
traces a test once, when it first sees it: after editing an existing test, ``--fresh`` traces them all again.

Written under "mutation" in bench/results.json (bench/run.py keeps it): per module the mutants, killed
(a test failed or the mutant ran past its time limit), survived, and not reached by a selected test; the
survivors by name, each with the reason from bench/mutation-survivors.json when it has one (docs/architecture.md,
"Mutation testing", says how to read one: ``mutmut show NAME``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
MUTMUT = Path(sys.executable).with_name("mutmut")
REASONS = BENCH / "mutation-survivors.json"

# slice -> mutant-name globs (module paths as mutmut names them); run in this order.
SLICES = {
    "runinfo": ["conformance.evidence.runinfo.*"],
    "bundle": ["conformance.evidence.bundle.*"],
    "webhook": ["conformance.client.webhook.*"],
    "rules": ["conformance.sandbox.rules.*"],
    "recorder": ["conformance.evidence.recorder.*", "conformance.evidence.scrub.*"],
    "report": ["conformance.evidence.report.*", "conformance.evidence.htmlextras.*"],
    "redaction": ["conformance.evidence.redaction.*"],      # called by most sandbox tests (the journal): slow
    "store": ["conformance.sandbox.store.*", "conformance.sandbox.records.*"],
    "handlers": ["conformance.sandbox.handlers.*"],
    "pipeline": ["conformance.sandbox.pipeline.*"],
    "snap": ["conformance.snap.*"],
    "grading": ["conformance.sandbox.grading.*"],
}
# mutmut's exit codes of a mutant's test run, as counted here (mutmut.stats.status_by_exit_code).
KILLED, SURVIVED, NO_TESTS, TIMEOUT = {1, 3}, {0}, {5, 33}, {24, -24, 36, 152, 255}


def run_slice(globs: list[str], children: int) -> int:
    command = [str(MUTMUT), "run", "--max-children", str(children), *globs]
    print("$", " ".join(command[1:]), flush=True)
    return subprocess.run(command, cwd=ROOT).returncode


def tally() -> dict:
    """Per module, from mutmut's own records (mutants/<module>.py.meta)."""
    modules: dict[str, dict] = {}
    for meta in sorted((ROOT / "mutants" / "conformance").rglob("*.py.meta")):
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        if not codes:
            continue
        module = meta.relative_to(ROOT / "mutants").as_posix().removesuffix(".meta")
        counts = {"mutants": len(codes), "killed": 0, "survived": 0, "noTests": 0, "notChecked": 0, "other": 0}
        survivors = []
        for name, code in sorted(codes.items()):
            if code in KILLED or code in TIMEOUT:
                counts["killed"] += 1
            elif code in SURVIVED:
                counts["survived"] += 1
                survivors.append(name)
            elif code in NO_TESTS:
                counts["noTests"] += 1
                survivors.append(name)
            elif code is None:
                counts["notChecked"] += 1
            else:
                counts["other"] += 1
        modules[module] = {**counts, "survivors": survivors}
    return modules


def summary(modules: dict, chosen: list[str], globs: list[str], children: int, seconds: float | None) -> dict:
    reasons = json.loads(REASONS.read_text()) if REASONS.is_file() else {}
    total = {k: sum(m[k] for m in modules.values()) for k in ("mutants", "killed", "survived", "noTests", "notChecked")}
    checked = total["mutants"] - total["notChecked"]
    survivors = [{"mutant": name, "reason": reasons.get(name, "")}
                 for m in modules.values() for name in m["survivors"]]
    return {
        "tool": f"mutmut {metadata.version('mutmut')}",
        "command": f"make mutate MUTATE_SLICES={','.join(chosen)} MUTATE_CHILDREN={children} (bench/mutate.py: "
                   f"mutmut run --max-children {children} " + " ".join(globs) + ", one slice at a time)",
        "machine": {"cpus": os.cpu_count(), "loadavg": os.getloadavg()},
        "seconds": seconds,
        **total,
        "killedPercent": round(100 * total["killed"] / checked, 1) if checked else None,
        "modules": {name: {k: v for k, v in m.items() if k != "survivors"} | {
            "killedPercent": round(100 * m["killed"] / max(1, m["mutants"] - m["notChecked"]), 1)}
            for name, m in modules.items()},
        "survivors": survivors,
        "unexplainedSurvivors": sum(1 for s in survivors if not s["reason"]),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slice", default=",".join(SLICES), help="comma-separated: " + ", ".join(SLICES))
    parser.add_argument("--children", type=int, default=1, help="mutants tested at once (default 1)")
    parser.add_argument("--report-only", action="store_true", help="only write the figures mutants/ holds")
    parser.add_argument("--fresh", action="store_true",
                        help="trace every test again (mutmut traces only new tests: after editing one, use this)")
    parser.add_argument("--out", default=str(BENCH / "results.json"))
    args = parser.parse_args(argv)
    chosen = args.slice.split(",")
    unknown = set(chosen) - set(SLICES)
    if unknown:
        parser.error(f"unknown slice(s): {', '.join(sorted(unknown))}")
    globs = [g for name in chosen for g in SLICES[name]]
    started, seconds = time.monotonic(), None
    if args.fresh:
        (ROOT / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    if not args.report_only:
        for name in chosen:
            code = run_slice(SLICES[name], args.children)
            if code not in (0, 1):          # 1: mutmut ran and reports survivors; anything else: it broke
                print(f"mutmut stopped on slice {name} (exit {code})", file=sys.stderr)
                return code
        seconds = round(time.monotonic() - started, 1)
    result = summary(tally(), chosen, globs, args.children, seconds)
    out = Path(args.out)
    record = json.loads(out.read_text()) if out.is_file() else {}
    record["mutation"] = result
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"mutation: {result['mutants']} mutants, {result['killed']} killed, {result['survived']} survived, "
          f"{result['noTests']} not reached by a selected test, {result['notChecked']} not run yet: "
          f"{result['killedPercent']}% killed; {result['unexplainedSurvivors']} survivor(s) without a reason")
    for module, m in result["modules"].items():
        print(f"  {module}: {m['mutants']} mutants, {m['killed']} killed, {m['survived']} survived, "
              f"{m['noTests']} no tests, {m['notChecked']} not run ({m['killedPercent']}%)")
    print(f"written: {os.path.relpath(out, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
