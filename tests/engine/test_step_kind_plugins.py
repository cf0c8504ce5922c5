"""Step kinds from other packages: the entry-point group ``dana_uat.step_kinds`` (conformance/scenarios/kinds.py).

Merchant mode's kinds reach the registry this way, so the engine imports no package that adds kinds; a merchant's
own package can add one the same way. Each test installs a small package of its own (a folder with its
``*.dist-info``, on PYTHONPATH) and runs ``dana-uat`` in a process of its own, as a merchant would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

KIND = '''
from pydantic import Field

from conformance.findings import fail
from conformance.scenarios import schema
from conformance.scenarios.kinds import StepKind


class StampStep(schema.Strict):
    stamp: str = Field(..., description="A text to render and record.")
    equals: str = Field(..., description="What the rendered text must be.")


def run_stamp(run, step, where):
    value = run.expr.render(step.stamp)
    run.recorder.event("stamp", value=value)
    expected = run.expr.render(step.equals)
    return [] if value == expected else [fail("stamp", expected, value, where=where)]


def step_kinds():
    return [StepKind("stamp", StampStep, run_stamp, label=lambda s: "acme", asserts=lambda s: True)]
'''

SCENARIO = """\
api: apply_token
scenarios:
  - id: stamp_runs
    title: a kind from the merchant's own package runs like a built-in one
    steps:
      - stamp: "merchant ${merchant.id}"
        equals: "EXPECTED"
"""


def install(site: Path, body: str, value: str = "acme_kinds:step_kinds") -> None:
    """A package ``acme_kinds`` and its distribution ``acme-kinds 1.0`` naming ``value`` in the group."""
    (site / "acme_kinds").mkdir(parents=True)
    (site / "acme_kinds" / "__init__.py").write_text(body)
    info = site / "acme_kinds-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-kinds\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[dana_uat.step_kinds]\nacme = {value}\n")


def dana_uat(folder: Path, site: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    return subprocess.run([sys.executable, "-m", "conformance.cli", *args], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "work" / "scenarios").mkdir(parents=True)
    return tmp_path / "work"


def write_scenario(folder: Path, expected: str) -> None:
    (folder / "scenarios" / "stamp.yaml").write_text(SCENARIO.replace("EXPECTED", expected))


def test_a_kind_from_another_package_loads_runs_and_grades(folder, tmp_path):
    install(tmp_path / "site", KIND)
    write_scenario(folder, "merchant ${merchant.id}")
    passed = dana_uat(folder, tmp_path / "site", "run", "--all", "--scenarios", "scenarios", "--report-dir", "reports")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    evidence = json.loads(next((folder / "reports").rglob("evidence/stamp_runs.json")).read_text())
    assert [s["name"] for s in evidence["steps"]] == ["step 1 stamp acme"]
    assert [e["value"].startswith("merchant ") for e in evidence["exchanges"] if e["type"] == "stamp"] == [True]

    write_scenario(folder, "someone else")          # its runner's finding fails the scenario, as a built-in's does
    failed = dana_uat(folder, tmp_path / "site", "run", "--all", "--scenarios", "scenarios", "--report-dir", "reports")
    assert failed.returncode == 1, failed.stdout + failed.stderr

    schema = dana_uat(folder, tmp_path / "site", "schema", "scenarios")
    assert schema.returncode == 0 and "StampStep" in schema.stdout and '"stamp"' in schema.stdout


@pytest.mark.parametrize("body, value, says", [
    ("raise ImportError('no module named acme_internal')", "acme_kinds:step_kinds",
     "could not be loaded: ImportError: no module named acme_internal"),
    ("def step_kinds():\n    return ['stamp']", "acme_kinds:step_kinds", "must return StepKind records"),
    (KIND, "acme_kinds:no_such_function", "could not be loaded: AttributeError"),
], ids=["import-error", "not-step-kinds", "missing-function"])
def test_an_entry_point_that_does_not_load_stops_the_command_naming_it(folder, tmp_path, body, value, says):
    install(tmp_path / "site", body, value)
    write_scenario(folder, "x")
    for command in (["run", "--scenarios", "scenarios"], ["list"], ["schema", "scenarios"]):
        done = dana_uat(folder, tmp_path / "site", *command)
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        assert "entry point 'acme'" in done.stderr and "acme-kinds 1.0" in done.stderr and says in done.stderr
        assert "Traceback" not in done.stderr
    assert not (folder / "reports").exists(), "nothing ran, nothing was written"

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), str(ROOT)])}
    bare = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "scenarios"], cwd=folder,
                          env=env, capture_output=True, text=True, timeout=120)
    assert bare.returncode == 2 and "entry point 'acme'" in bare.stdout + bare.stderr, bare.stdout[-2000:]


MODULES = sorted(f"conformance.merchant.{p.stem}" for p in (ROOT / "conformance" / "merchant").glob("*.py")
                 if p.stem != "__init__") + ["conformance.schemas", "conformance.scenarios.kinds"]


def test_each_module_of_merchant_mode_imports_first_in_a_fresh_process():
    """The registry loads merchant mode's kinds through the entry point while merchant/ imports the engine:
    whichever is imported first, the kinds are all there (no half-initialised module at run time)."""
    script = ("import importlib, sys; importlib.import_module(sys.argv[1]); "
              "from conformance.scenarios import kinds; "
              "print(sorted(k for k in kinds.KINDS if k.startswith('merchant_')), kinds.PLUGIN_PROBLEMS)")
    for module in MODULES:
        done = subprocess.run([sys.executable, "-c", script, module], cwd=ROOT, capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, (module, done.stderr[-1500:])
        assert "'merchant_bind'" in done.stdout and "'merchant_trigger'" in done.stdout, (module, done.stdout)
        assert done.stdout.rstrip().endswith("[]"), (module, done.stdout)
