"""Mutation testing of the rule-bearing modules (issue 29): runs mutmut slice by slice, writes bench/results.json.

    .venv/bin/python bench/mutate.py [--slice runinfo,bundle,...] [--children 1] [--fresh] [--report-only]
                                     [--sample-slice store,handlers,... --sample N --seed S]

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

``--sample-slice`` names the slices too slow to run whole on a shared 2-core machine (a surviving mutant of the
sandbox's request path runs every sandbox test): of each of their modules, ``--sample N`` mutants drawn at random
with ``--seed S`` (sorted names, ``random.Random(S).sample``: the same draw every time, so a run resumes) are run
by name. Their figures are labelled as a sample: population, sampled, killed, survived, and the killed share
estimated for the whole module with its 95% interval (Wilson); the overall estimate weights each module by its
population (stratified), beside the exact figures of the modules run whole.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import time
from importlib import metadata
from fnmatch import fnmatch
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
    "snap": ["conformance.snap.notify.*", "conformance.snap.oauth.*", "conformance.snap.schemas.*",
             "conformance.snap.hosts.*"],
    # signing, timestamps, response codes, keys, the API table: every sandbox request calls them, so a
    # surviving mutant there runs every sandbox test (slow)
    "protocol": ["conformance.snap.signature.*", "conformance.snap.timestamps.*", "conformance.snap.codes.*",
                 "conformance.snap.keys.*", "conformance.snap.apis.*", "conformance.snap.requirements.*"],
    "grading": ["conformance.sandbox.grading.*"],
}
# mutmut's exit codes of a mutant's test run, as counted here (mutmut.stats.status_by_exit_code).
KILLED, SURVIVED, NO_TESTS, TIMEOUT = {1, 3}, {0}, {5, 33}, {24, -24, 36, 152, 255}


def run_slice(globs: list[str], children: int) -> int:
    command = [str(MUTMUT), "run", "--max-children", str(children), *globs]
    print("$", " ".join(command[1:]), flush=True)
    return subprocess.run(command, cwd=ROOT).returncode


def _metas() -> list[Path]:
    return sorted((ROOT / "mutants" / "conformance").rglob("*.py.meta"))


def _module(meta: Path) -> str:
    return meta.relative_to(ROOT / "mutants").as_posix().removesuffix(".meta")


def _codes(meta: Path) -> dict:
    return json.loads(meta.read_text())["exit_code_by_key"]


def sample_names(slices: list[str], size: int, seed: int) -> dict[str, list[str]]:
    """Per module of the given slices: `size` mutant names drawn with `seed` (all of them if it has fewer)."""
    globs = [g for name in slices for g in SLICES[name]]
    drawn = {}
    for meta in _metas():
        names = sorted(n for n in _codes(meta) if any(fnmatch(n, g) for g in globs))
        if names:
            drawn[_module(meta)] = sorted(random.Random(seed).sample(names, min(size, len(names))))
    return drawn


def run_sample(drawn: dict[str, list[str]], children: int) -> int:
    """Runs the drawn mutants not yet run, a batch at a time (mutmut reruns a mutant it is given by name)."""
    done = {n for meta in _metas() for n, code in _codes(meta).items() if code is not None}
    todo = [n for names in drawn.values() for n in names if n not in done]
    if not todo:
        return 0
    # One mutmut process for the lot: each process first runs the tests of every mutant it is given, clean.
    return run_slice(todo, children)


def wilson(killed: int, n: int) -> tuple[float, float]:
    """95% interval of a proportion (Wilson score)."""
    if not n:
        return (0.0, 100.0)
    z, p = 1.96, killed / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (round(100 * max(0.0, centre - half), 1), round(100 * min(1.0, centre + half), 1))


def tally(drawn: dict[str, list[str]] | None = None) -> dict:
    """Per module, from mutmut's own records (mutants/<module>.py.meta); a sampled module counts its draw only."""
    drawn = drawn or {}
    modules: dict[str, dict] = {}
    for meta in _metas():
        codes = _codes(meta)
        if not codes:
            continue
        module = _module(meta)
        population = len(codes)
        if module in drawn:
            codes = {name: codes.get(name) for name in drawn[module]}
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
        if module in drawn:
            counts = {"run": "sample", "population": population, **counts}
        else:
            counts = {"run": "full" if not counts["notChecked"] else "partial", **counts}
        modules[module] = {**counts, "survivors": survivors}
    return modules


def stratified(modules: dict) -> dict | None:
    """Killed share over every module: exact where run whole, estimated from the draw where sampled (95%)."""
    if not any(m["run"] == "sample" for m in modules.values()):
        return None
    population = killed = variance = 0.0
    for m in modules.values():
        n = m["mutants"] - m["notChecked"]
        size = m.get("population", m["mutants"])
        if m["run"] == "sample":
            p = m["killed"] / n if n else 0.0
            killed += size * p
            fpc = (size - n) / (size - 1) if size > 1 else 0.0
            variance += size * size * p * (1 - p) / max(1, n - 1) * fpc
        elif m["run"] == "full":
            killed += m["killed"]
        else:
            continue
        population += size
    estimate, half = killed / population, 1.96 * math.sqrt(variance) / population
    return {"population": int(population), "killedPercent": round(100 * estimate, 1),
            "interval95": [round(100 * (estimate - half), 1), round(100 * min(1.0, estimate + half), 1)]}


def summary(modules: dict, chosen: list[str], globs: list[str], children: int, seconds: float | None,
            sample: dict | None = None) -> dict:
    reasons = json.loads(REASONS.read_text()) if REASONS.is_file() else {}
    total = {k: sum(m[k] for m in modules.values()) for k in ("mutants", "killed", "survived", "noTests", "notChecked")}
    checked = total["mutants"] - total["notChecked"]
    survivors = [{"mutant": name, "reason": reasons.get(name, "")}
                 for m in modules.values() for name in m["survivors"]]
    command = f"make mutate MUTATE_SLICES={','.join(chosen)} MUTATE_CHILDREN={children}"
    if sample:
        command += (f" MUTATE_SAMPLE_SLICES={','.join(sample['slices'])} MUTATE_SAMPLE={sample['size']}"
                    f" MUTATE_SEED={sample['seed']}")
    return {
        "tool": f"mutmut {metadata.version('mutmut')}",
        "command": command + f" (bench/mutate.py: mutmut run --max-children {children} " + " ".join(globs)
                   + ", one slice at a time" + (", then the sampled mutants by name)" if sample else ")"),
        "machine": {"cpus": os.cpu_count(), "loadavg": os.getloadavg()},
        "seconds": seconds,
        **total,
        "killedPercent": round(100 * total["killed"] / checked, 1) if checked else None,
        "modules": {name: {k: v for k, v in m.items() if k != "survivors"} | {
            "killedPercent": round(100 * m["killed"] / max(1, m["mutants"] - m["notChecked"]), 1)} | (
            {"interval95": wilson(m["killed"], m["mutants"] - m["notChecked"])} if m["run"] == "sample" else {})
            for name, m in modules.items()},
        "sample": sample and {**sample, "note": "modules with run=sample: a seeded random draw of their mutants; "
                              "killedPercent there estimates the module, interval95 is its 95% interval"},
        "allModulesEstimate": stratified(modules),
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
    parser.add_argument("--sample-slice", default="", help="comma-separated slices to sample instead (see above)")
    parser.add_argument("--sample", type=int, default=40, help="mutants drawn per module of a sampled slice")
    parser.add_argument("--seed", type=int, default=29, help="seed of the draw")
    parser.add_argument("--rerun-survivors", action="store_true",
                        help="after adding tests: run the chosen slices' (and the draw's) survivors again, by name")
    parser.add_argument("--note", default="", help="with --report-only: how the figures were obtained (runs, times)")
    parser.add_argument("--out", default=str(BENCH / "results.json"))
    args = parser.parse_args(argv)
    chosen = [name for name in args.slice.split(",") if name]
    sampled = [name for name in args.sample_slice.split(",") if name]
    chosen = [name for name in chosen if name not in sampled]
    unknown = set(chosen + sampled) - set(SLICES)
    if unknown:
        parser.error(f"unknown slice(s): {', '.join(sorted(unknown))}")
    globs = [g for name in chosen for g in SLICES[name]]
    started, seconds = time.monotonic(), None
    if args.fresh:
        (ROOT / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    if args.rerun_survivors and not args.report_only:
        wanted = [g for name in chosen + sampled for g in SLICES[name]]
        again = [n for meta in _metas() for n, code in _codes(meta).items()
                 if code in SURVIVED | NO_TESTS and any(fnmatch(n, g) for g in wanted)]
        code = run_slice(again, args.children) if again else 0
        if code not in (0, 1):
            print(f"mutmut stopped on the survivors (exit {code})", file=sys.stderr)
            return code
    if not args.report_only:
        for name in chosen:
            code = run_slice(SLICES[name], args.children)
            if code not in (0, 1):          # 1: mutmut ran and reports survivors; anything else: it broke
                print(f"mutmut stopped on slice {name} (exit {code})", file=sys.stderr)
                return code
    drawn, sample = {}, None
    if sampled:
        if not (ROOT / "mutants").is_dir():
            run_slice(["conformance.snap.hosts.*"], args.children)     # makes mutants/: the names to draw from
        drawn = sample_names(sampled, args.sample, args.seed)
        sample = {"slices": sampled, "size": args.sample, "seed": args.seed}
        if not args.report_only:
            code = run_sample(drawn, args.children)
            if code not in (0, 1):
                print(f"mutmut stopped on the sample (exit {code})", file=sys.stderr)
                return code
    if not args.report_only:
        seconds = round(time.monotonic() - started, 1)
    result = summary(tally(drawn), chosen, globs, args.children, seconds, sample)
    if args.note:
        result["note"] = args.note
    out = Path(args.out)
    record = json.loads(out.read_text()) if out.is_file() else {}
    record["mutation"] = result
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"mutation: {result['mutants']} mutants, {result['killed']} killed, {result['survived']} survived, "
          f"{result['noTests']} not reached by a selected test, {result['notChecked']} not run yet: "
          f"{result['killedPercent']}% killed; {result['unexplainedSurvivors']} survivor(s) without a reason")
    for module, m in result["modules"].items():
        drawn_from = f" drawn of {m['population']}" if m["run"] == "sample" else ""
        interval = f", 95% interval {m['interval95'][0]}-{m['interval95'][1]}%" if "interval95" in m else ""
        print(f"  {module} ({m['run']}): {m['mutants']} mutants{drawn_from}, {m['killed']} killed, "
              f"{m['survived']} survived, {m['noTests']} no tests, {m['notChecked']} not run "
              f"({m['killedPercent']}%{interval})")
    if result["allModulesEstimate"]:
        e = result["allModulesEstimate"]
        print(f"all {e['population']} mutants, sampled modules estimated: {e['killedPercent']}% killed "
              f"(95% interval {e['interval95'][0]}-{e['interval95'][1]}%)")
    print(f"written: {os.path.relpath(out, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
