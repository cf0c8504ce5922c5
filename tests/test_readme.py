"""Every command in README.md runs, on a fresh copy of the repository (issue 14).

LONG (a few minutes, bounded by TIMEOUT): the copy bootstraps its own .venv with `make uat`, and the README
installs a wheel into a virtual environment in a temporary HOME. The ```sh blocks run in order in one bash
session, so `cd` and `export` carry over; each command must exit as its line says, "(exit N)", else 0. A
```text block right after a one-command block is that command's actual output. Commands that cannot run
here are in SKIP, with the reason; the test checks that list against the README both ways.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 1500
SKIP = {
    "make test": "it is the test suite that runs this test",
    "dana-uat run --target sandbox": "needs DANA's real sandbox: its network and a registered merchant",
    "dana-uat run --target http://127.0.0.1:8600 --scenarios scenarios/merchant --merchant-profile "
    "dana-uat.merchant.yaml": "needs your backend and a `dana-uat sandbox` running; tests/merchant runs the same "
                              "command against examples/merchant",
}
NEEDS_DANA = re.compile(r"--target sandbox|api\.sandbox\.dana\.id")


def blocks(text: str) -> list[tuple[str, str]]:
    return re.findall(r"^```(\w*)\n(.*?)^```", text, re.S | re.M)


def commands(body: str) -> list[str]:
    """The commands of a sh block, a heredoc kept with its command."""
    out, lines = [], iter(body.splitlines())
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        heredoc = re.search(r"<<'(\w+)'", line)
        if heredoc:
            rest = []
            for more in lines:
                rest.append(more)
                if more == heredoc.group(1):
                    break
            line = "\n".join([line, *rest])
        out.append(line)
    return out


def bare(command: str) -> str:
    return command.split("#")[0].strip() if "\n" not in command else command


def expected_exit(command: str) -> int:
    found = re.search(r"\(exit (\d)\)", command.splitlines()[0])
    return int(found.group(1)) if found else 0


def readme_plan(text: str) -> list[tuple[str, list[str]]]:
    """(command, output lines the README shows for it) for every command, in order."""
    plan, found = [], blocks(text)
    for i, (lang, body) in enumerate(found):
        if lang != "sh":
            continue
        cmds = commands(body)
        shown = found[i + 1][1].splitlines() if len(cmds) == 1 and i + 1 < len(found) and found[i + 1][0] == "text" \
            else []
        plan += [(c, shown if len(cmds) == 1 else []) for c in cmds]
    return plan


def fresh_copy(dest: Path) -> Path:
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    return dest


def script(plan, logs: Path) -> str:
    lines = ["set -u"]
    for i, (command, _shown) in enumerate(plan):
        if bare(command) in SKIP:
            continue
        want = expected_exit(command)
        lines += [f"{{ {command}\n}} > {logs}/{i}.log 2>&1",
                  f'rc=$?; [ "$rc" = {want} ] || {{ echo "command {i} exited $rc, README says {want}"; exit 1; }}']
    return "\n".join(lines) + "\n"


def test_the_skip_list_is_exact_and_only_skips_what_cannot_run_here():
    cmds = [bare(c) for c, _ in readme_plan((ROOT / "README.md").read_text())]
    assert set(SKIP) <= set(cmds), set(SKIP) - set(cmds)                     # no stale entry
    assert [c for c in cmds if NEEDS_DANA.search(c) and c not in SKIP] == []  # nothing that needs DANA runs
    assert "make uat" in cmds and "dana-uat run -k refund" in cmds


def test_every_readme_command_runs_on_a_fresh_copy(tmp_path):
    copy = fresh_copy(tmp_path / "copy")
    (tmp_path / "home").mkdir()
    (tmp_path / "logs").mkdir()
    plan = readme_plan((copy / "README.md").read_text())
    environ = {k: v for k, v in os.environ.items()
               if not k.startswith(("DANA_UAT_", "X_PARTNER", "MERCHANT", "PRIVATE_KEY", "VIRTUAL_ENV", "PYTEST"))}
    environ.update(HOME=str(tmp_path / "home"), PATH=os.pathsep.join(
        p for p in environ["PATH"].split(os.pathsep) if not str(Path(p)).startswith(str(ROOT))))
    result = subprocess.run(["bash", "-c", script(plan, tmp_path / "logs")], cwd=copy, env=environ,
                            capture_output=True, text=True, timeout=TIMEOUT)
    failed = re.search(r"command (\d+) exited", result.stdout)
    detail = ""
    if failed:
        i = int(failed.group(1))
        detail = f"\n$ {plan[i][0]}\n" + (tmp_path / "logs" / f"{i}.log").read_text()[-4000:]
    assert result.returncode == 0, result.stdout + result.stderr + detail

    for i, (command, shown) in enumerate(plan):      # the README's quoted output is the real output
        if shown:
            real = (tmp_path / "logs" / f"{i}.log").read_text().splitlines()
            assert [line for line in shown if line not in real] == [], (command, real)
    ran = [c for c, _ in plan if bare(c) not in SKIP]
    assert len(ran) == len(list((tmp_path / "logs").glob("*.log")))
    reports = list((tmp_path / "home" / "my-shop-uat" / "reports").glob("2*/report.html"))
    assert len(reports) >= 2                          # the first hour's runs reported in the merchant's folder
    refund = [i for i, (c, _) in enumerate(plan) if bare(c) == "dana-uat run -k refund"][0]
    ran = re.findall(r"\] PASS  (\S+)", (tmp_path / "logs" / f"{refund}.log").read_text())
    # every scenario of refund_order.yaml, plus those that call the refund API (-k matches the api_ marks too)
    refund_file = [s["id"] for s in yaml.safe_load((copy / "scenarios/widget/refund_order.yaml").read_text())["scenarios"]]
    assert {f"scenarios/widget/refund_order.yaml::{s}" for s in refund_file} <= set(ran)
    assert len(ran) < len(refund_file) + 5, ran
