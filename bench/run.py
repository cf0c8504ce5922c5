"""One entry point for the suite's timings (issue 13): prints one table and writes bench/results.json.

    .venv/bin/python bench/run.py [--repeat 3] [--only mandatory,full,api,collect,sandbox,flows,state]

Measures, each repeated and reported as the median (min and max beside it):
  collect    collecting the whole catalogue (pytest --collect-only, with dana-uat run's start-up flags), with the
             parse cache (conformance/scenarios/parsecache.py) and without it
  mandatory  `dana-uat run` in process and with -n 2; also its time after the browser started
  full       `dana-uat run --all` in process (scenarios side by side, and one at a time) and with -n 2
  api        the API-only scenarios (`dana-uat run --all -m "not browser"`) the same three ways
  sandbox    signed Widget Payment latency and throughput of the sandbox (bench/sandbox.py)
  soak       resident memory of a `dana-uat sandbox` before and after 50,000 fuzz and signed requests
             (bench/soak.py; memory, not time: once, not repeated)
  flows      one bind flow and one checkout in Chromium (bench/browser.py, the runs' evidence modes)
  state      the cost of `dana-uat sandbox --state FILE` (issue 26): the signed payment loop (requests/s) and
             `dana-uat run --all --target URL` (the catalogue) against a `dana-uat sandbox` without and with it
  check      `make check`: the edit-test loop's fast tests (in process, no browser; tests/conftest.py SLOW)

Wall time is what a merchant waits; CPU time (user + sys of the run and everything it started) is what the run
costs, and is far less sensitive to other work on a shared machine, so both are kept, with the load average seen
before and after. Timings are printed and written, never asserted. ``--only`` keeps the other groups' figures
already in the output file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from conformance.cli.run import LEAN  # noqa: E402
from conformance.snap import generate_private_key, public_key_pem  # noqa: E402

ONE_AT_A_TIME = {"DANA_UAT_CONCURRENCY": "1"}
RUNS = {   # name -> (group, arguments of `dana-uat`, environment); "in process": scenarios side by side (ahead.py)
    "mandatory, in process": ("mandatory", ["run"], {}),
    "mandatory, -n 2": ("mandatory", ["run", "-n", "2"], {}),
    "full catalogue, in process": ("full", ["run", "--all"], {}),
    "full catalogue, in process, one at a time": ("full", ["run", "--all"], ONE_AT_A_TIME),
    "full catalogue, -n 2": ("full", ["run", "--all", "-n", "2"], {}),
    "API-only scenarios, in process": ("api", ["run", "--all", "-m", "not browser"], {}),
    "API-only scenarios, in process, one at a time": ("api", ["run", "--all", "-m", "not browser"], ONE_AT_A_TIME),
    "API-only scenarios, -n 2": ("api", ["run", "--all", "-m", "not browser", "-n", "2"], {}),
}
GROUPS = ("collect", "mandatory", "full", "api", "sandbox", "flows", "state", "soak", "check")
STATE_MODES = {"memory": False, "--state": True}


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], env: dict | None = None) -> dict:
    """Wall and CPU seconds of one command (and all it started), its exit code and output."""
    cpu, began = children_cpu(), time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    return {"wall": time.perf_counter() - began, "cpu": children_cpu() - cpu, "code": done.returncode,
            "out": done.stdout + done.stderr}


def run_catalogue(args: list[str], tmp: Path, extra_env: dict) -> dict:
    timings = tmp / "timings.jsonl"
    timings.unlink(missing_ok=True)
    env = {**os.environ, **extra_env, "DANA_BENCH_TIMINGS": str(timings),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(BENCH), os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-m", "conformance.cli", *args, "--report-dir", str(tmp / "reports"),
               "--", "-p", "timing_plugin"]
    result = timed(command, env)
    counts = re.search(r"dana-uat: (\d+) passed, (\d+) failed, (\d+) skipped", result["out"])
    lines = [json.loads(line) for line in timings.read_text().splitlines()] if timings.exists() else []
    starts = [r["browserStart"] for r in lines if "browserStart" in r]
    loop = [r["loopStart"] for r in lines if "loopStart" in r], [r["loopEnd"] for r in lines if "loopEnd" in r]
    result.update(passed=int(counts.group(1)) if counts else None, failed=int(counts.group(2)) if counts else None,
                  browserStart=max(starts, default=0.0))
    result["afterBrowserStart"] = result["wall"] - result["browserStart"]
    # scenario execution: from the moment the last process is ready (xdist hands out scenarios once every worker
    # has collected) to the last one finishing; start-up, collection and the target's start are outside it, and
    # a browser start inside it is subtracted
    result["execution"] = max(loop[1]) - max(loop[0]) - result["browserStart"] if all(loop) else None
    if result["code"] != 0:
        print(result["out"][-3000:], file=sys.stderr)
    del result["out"]
    return result


def collect_once(tmp: Path, env: dict | None = None) -> dict:
    command = [sys.executable, "-m", "pytest", "scenarios", "--collect-only", "-q", "-p", "no:cacheprovider",
               "--dana-report-dir", str(tmp / "reports"), *LEAN]
    result = timed(command, {**os.environ, **env} if env else None)
    found = re.search(r"(\d+) tests? collected", result["out"])
    result["collected"] = int(found.group(1)) if found else None
    del result["out"]
    return result


def catalogue_against_sandbox(tmp: Path, state: bool) -> dict:
    """`dana-uat run --all --target URL` against a `dana-uat sandbox` process (with --state on a new file)."""
    import sandbox as sandbox_bench

    key_file = tmp / "bench-merchant.pub.pem"     # the sandbox wants one merchant; the run registers its own
    key_file.write_text(public_key_pem(generate_private_key()))
    state_file = tmp / "catalogue-state.db"
    state_file.unlink(missing_ok=True)
    process, base = sandbox_bench.start_sandbox(key_file, state_file if state else None)
    try:
        result = run_catalogue(["run", "--all", "--target", base], tmp, {})
        result["sandboxCpu"] = sandbox_bench.process_cpu(process.pid)   # "cpu" is the run's own
        return result
    finally:
        process.terminate()
        process.wait(timeout=30)


def summary(samples: list[dict], key: str) -> dict:
    values = [s[key] for s in samples]
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def measure(groups: set[str], repeat: int) -> dict:
    results: dict = {}
    if "sandbox" in groups:
        import sandbox as sandbox_bench

        raw = sandbox_bench.measure(seconds=3.0, clients=8, unique=1000)
        results["sandbox, signed Widget Payment"] = {
            "p50ServerMs": sandbox_bench.pct(raw["server"], 50), "p50LatencyMs": sandbox_bench.pct(raw["e2e"], 50),
            "p95LatencyMs": sandbox_bench.pct(raw["e2e"], 95), "throughput": len(raw["e2e"]) / raw["elapsed"],
            "clients": 8}
    if "flows" in groups:
        import browser as browser_bench

        raw = browser_bench.measure(n=max(3, repeat), screenshot="on", tracing="retain-on-failure")
        results["browser flows"] = {"browserStart": raw["start"], "bind": raw["bind"], "checkout": raw["checkout"]}
    if "state" in groups:
        import sandbox as sandbox_bench

        # The modes take turns (memory, --state, memory, ...) so a change in the machine's load hits both; every
        # request creates an order (more pre-signed payments than a run sends), so each one is a commit.
        raws: dict[str, list] = {mode: [] for mode in STATE_MODES}
        for _ in range(repeat):
            for mode, state in STATE_MODES.items():
                raws[mode].append(sandbox_bench.measure(seconds=3.0, clients=8, unique=4000, state=state))
        for mode, samples in raws.items():
            rates = [len(r["e2e"]) / r["elapsed"] for r in samples]
            cpu = [r["serverCpuMsPerRequest"] for r in samples if r["serverCpuMsPerRequest"] is not None]
            merged = {"e2e": [v for r in samples for v in r["e2e"]], "server": [v for r in samples for v in r["server"]]}
            results[f"payment loop, `dana-uat sandbox` {mode}"] = {
                "p50ServerMs": sandbox_bench.pct(merged["server"], 50),
                "p50LatencyMs": sandbox_bench.pct(merged["e2e"], 50),
                "p95LatencyMs": sandbox_bench.pct(merged["e2e"], 95), "throughput": statistics.median(rates),
                "throughputSamples": rates, "clients": 8,
                "serverCpuMsPerRequest": statistics.median(cpu) if cpu else None, "serverCpuMsSamples": cpu,
                "codes": [r["codes"] for r in samples]}
    if "soak" in groups:
        import soak as soak_bench

        results["sandbox soak"] = soak_bench.measure() | {"command": "python bench/soak.py"}
    if "check" in groups:
        samples = [timed(["make", "-s", "check"]) for _ in range(repeat)]
        for sample in samples:
            found = re.search(r"(\d+) passed", sample.pop("out"))
            sample["collected"] = int(found.group(1)) if found else None
        results["make check"] = {"samples": samples, "wall": summary(samples, "wall"), "cpu": summary(samples, "cpu")}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if "collect" in groups:
            for name, env in (("collection of the catalogue", None),      # parsed files cached (parsecache.py)
                              ("collection of the catalogue, parse cache off", {"DANA_UAT_CACHE_DIR": "off"})):
                samples = [collect_once(tmp, env) for _ in range(repeat)]
                results[name] = {"samples": samples, "wall": summary(samples, "wall"), "cpu": summary(samples, "cpu")}
        for name, (group, args, extra_env) in RUNS.items():
            if group in groups:
                samples = [run_catalogue(args, tmp, extra_env) for _ in range(repeat)]
                shown = " ".join([*(f"{k}={v}" for k, v in extra_env.items()), "dana-uat", *args])
                results[name] = {"command": shown, "samples": samples,
                                 **{k: summary(samples, k) for k in ("wall", "cpu", "afterBrowserStart", "execution")}}
        if "state" in groups:
            catalogue: dict[str, list] = {mode: [] for mode in STATE_MODES}
            for _ in range(repeat):                      # taking turns, as the payment loop does
                for mode, state in STATE_MODES.items():
                    catalogue[mode].append(catalogue_against_sandbox(tmp, state))
            for mode, samples in catalogue.items():
                results[f"full catalogue, `dana-uat sandbox` {mode}"] = {
                    "command": f"dana-uat sandbox {'--state FILE ' if STATE_MODES[mode] else ''}& "
                               "dana-uat run --all --target URL", "samples": samples,
                    **{k: summary(samples, k) for k in ("wall", "cpu", "afterBrowserStart", "execution",
                                                        "sandboxCpu")}}
    return results


def table(results: dict) -> list[str]:
    rows = [("measure", "median", "min", "max", "CPU (median)", "note")]
    for name, r in results.items():
        if "wall" in r:
            w, c = r["wall"], r["cpu"]
            note = ""
            if "afterBrowserStart" in r:
                passed = {s["passed"] for s in r["samples"]}
                note = (f"after browser start {r['afterBrowserStart']['median']:.2f} s; scenarios running "
                        f"{r['execution']['median']:.2f} s; passed {sorted(passed)}")
            else:
                note = f"collected {r['samples'][0]['collected']}"
            rows.append((name, f"{w['median']:.2f} s", f"{w['min']:.2f} s", f"{w['max']:.2f} s",
                         f"{c['median']:.2f} s", note))
        elif "rssAfterMiB" in r:
            rows.append((name, f"{r['rssAfterMiB']:.0f} MiB", "", f"peak {r['rssPeakMiB']:.0f} MiB", "",
                         f"RSS before {r['rssBeforeMiB']:.0f} MiB; {r['requests']} requests, "
                         f"{r['journalled']} of {r['sent']} journalled"))
        elif "throughput" in r:
            cpu = f", sandbox CPU {r['serverCpuMsPerRequest']:.2f} ms/request" if r.get("serverCpuMsPerRequest") else ""
            rows.append((name, f"{r['p50LatencyMs']:.1f} ms", "", f"p95 {r['p95LatencyMs']:.1f} ms", "",
                         f"{r['throughput']:.0f} req/s, {r['clients']} clients, server p50 {r['p50ServerMs']:.2f} ms"
                         + cpu))
        else:
            for flow in ("bind", "checkout"):
                v = r[flow]
                rows.append((f"{flow} flow (Chromium)", f"{statistics.median(v):.2f} s", f"{min(v):.2f} s",
                             f"{max(v):.2f} s", "", f"n={len(v)}, browser start {r['browserStart']:.2f} s"))
    for mode in ("API-only scenarios", "full catalogue", "mandatory"):
        inproc, seq = results.get(f"{mode}, in process"), results.get(f"{mode}, in process, one at a time")
        for label, base, other in (("-n 2 speed-up", inproc, results.get(f"{mode}, -n 2")),
                                   ("-n 2 speed-up over one at a time", seq, results.get(f"{mode}, -n 2")),
                                   ("side by side speed-up", seq, inproc)):
            if base and other:
                rows.append((f"{mode}: {label}", f"{base['wall']['median'] / other['wall']['median']:.2f}x",
                             "", "", "", f"wall; scenarios running: "
                             f"{base['execution']['median'] / other['execution']['median']:.2f}x (medians)"))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default=",".join(GROUPS), help="comma-separated: " + ", ".join(GROUPS))
    parser.add_argument("--out", default=str(BENCH / "results.json"))
    args = parser.parse_args(argv)
    groups = set(args.only.split(","))
    unknown = groups - set(GROUPS)
    if unknown:
        parser.error(f"unknown group(s): {', '.join(sorted(unknown))}")
    load_before = os.getloadavg()
    results = measure(groups, args.repeat)
    load_after = os.getloadavg()
    lines = table(results)
    print(f"dana-uat bench: {os.cpu_count()} CPUs, load average {load_before[0]:.1f} before and "
          f"{load_after[0]:.1f} after, repeat {args.repeat} (medians)")
    print("\n".join(lines))
    record = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "loadavgBefore": load_before, "loadavgAfter": load_after},
              "command": "python bench/run.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "repeat": args.repeat, "results": results}
    out = Path(args.out)
    if groups != set(GROUPS) and out.exists():          # --only: the other groups' figures stay in the file
        kept = json.loads(out.read_text())
        record["results"] = {**kept.get("results", {}), **results}
        earlier = kept.get("runs") or {kept.get("command", ""): {"machine": kept.get("machine"),
                                                                 "results": sorted(kept.get("results", {}))}}
        record["runs"] = {**earlier, record["command"]: {"machine": record["machine"], "results": sorted(results)}}
    previous = json.loads(out.read_text()) if out.is_file() else {}
    if "mutation" in previous:          # bench/mutate.py's figures, measured on their own
        record["mutation"] = previous["mutation"]
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"written: {os.path.relpath(args.out, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
