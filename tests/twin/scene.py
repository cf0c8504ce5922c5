"""Inside the namespace (netns.py): start the DANA twin on port 443, run `dana-uat run`, stop the twin.

``python scene.py CONFIG.json``; CONFIG names the twin's and the run's arguments, the run's environment and
working folder, and where to write the result (``{"exit": N, "twinExit": N}``); the run's output goes to
``run.out``/``run.err`` and the twin's to ``twin.out`` in the working folder.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

START_TIMEOUT = 30.0


def start_twin(argv: list[str], log: Path) -> subprocess.Popen:
    """The twin, once it has said it serves (bounded); its output goes on into ``log``."""
    twin = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    ready = threading.Event()

    def copy() -> None:
        with log.open("w", encoding="utf-8") as out:
            for line in twin.stdout:
                out.write(line)
                out.flush()
                if line.startswith("DANA twin"):
                    ready.set()
    threading.Thread(target=copy, daemon=True).start()
    if not ready.wait(START_TIMEOUT):
        twin.kill()
        raise SystemExit(f"the twin did not start within {START_TIMEOUT:.0f} s; see {log}")
    return twin


def main(config_path: str) -> int:
    config = json.loads(Path(config_path).read_text(encoding="utf-8"))
    work = Path(config["workdir"])
    twin = start_twin(config["twin"], work / "twin.out")
    try:
        with (work / "run.out").open("w") as out, (work / "run.err").open("w") as err:
            code = subprocess.run(config["run"], cwd=work, env={**os.environ, **config["env"]}, stdout=out,
                                  stderr=err, input=config.get("stdin", ""), text=True,
                                  timeout=config.get("timeout", 600), check=False).returncode
    finally:
        twin.send_signal(signal.SIGTERM)
        try:
            twin_code = twin.wait(15)
        except subprocess.TimeoutExpired:
            twin.kill()
            twin_code = -9
    Path(config["result"]).write_text(json.dumps({"exit": code, "twinExit": twin_code}), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
