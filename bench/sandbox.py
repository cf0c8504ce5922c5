"""Benchmark: signed-request latency and throughput of the embedded sandbox on loopback.

    .venv/bin/python bench/sandbox.py --seconds 10 --clients 8 [--state]

The sandbox runs in its own process (``python -m conformance.sandbox``), as a merchant would run it,
so client work does not share its interpreter. Requests are Widget Payments signed BEFORE the clock
starts (``--unique`` distinct partnerReferenceNo, cycled): the first pass creates orders, later passes
are idempotent replays; both go through the whole pipeline (signature verification, schema, magic
rules, store under its lock); with ``--state`` the sandbox also commits each request's changes to its
SQLite state file before answering (conformance/sandbox/statefile.py). Server time is the pipeline's own measure (``Server-Timing: app;dur``);
end-to-end latency and throughput are measured by the clients. Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from conformance.snap import format_timestamp, generate_private_key, public_key_pem, sign, string_to_sign  # noqa: E402
from conformance.snap.timestamps import now  # noqa: E402

PATH = "/rest/redirection/v1.0/debit/payment-host-to-host"
PARTNER, MERCHANT = "BENCHPARTNER0000000001", "216620000000000000099"


def start_sandbox(key_file: Path, state: Path | None = None) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "conformance.sandbox", "--port", "0", "--quiet", "--merchant",
         f"{PARTNER}:{MERCHANT}:{key_file}", *(["--state", str(state)] if state else [])],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    first = process.stdout.readline()                 # "DANA sandbox running at http://..."
    if "running at" not in first:
        process.kill()
        raise SystemExit(f"sandbox did not start: {first!r}")
    return process, first.rsplit(" ", 1)[-1].strip()


def presign(key, count: int) -> list[tuple[bytes, dict]]:
    valid_up_to = format_timestamp(now() + timedelta(minutes=14))   # DANA allows at most 15
    requests = []
    for _ in range(count):
        body = json.dumps({
            "partnerReferenceNo": str(uuid.uuid4()), "merchantId": MERCHANT,
            "amount": {"value": "1.00", "currency": "IDR"}, "validUpTo": valid_up_to,
            "additionalInfo": {"productCode": "51051000100000000001", "mcc": "5732",
                               "order": {"orderTitle": "bench"}, "envInfo": {"terminalType": "SYSTEM"}}},
            separators=(",", ":")).encode()
        stamp = format_timestamp()
        requests.append((body, {"Content-Type": "application/json", "X-TIMESTAMP": stamp,
                                "X-SIGNATURE": sign(key, string_to_sign("POST", PATH, body, stamp)),
                                "X-PARTNER-ID": PARTNER, "X-EXTERNAL-ID": uuid.uuid4().hex,
                                "CHANNEL-ID": "95221"}))
    return requests


def encode(base: str, body: bytes, headers: dict) -> bytes:
    """One complete HTTP/1.1 keep-alive request, encoded before the clock starts."""
    host = base.split("//", 1)[1]
    lines = [f"POST {PATH} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def client(base: str, requests: list[bytes], start_index: int, stop_at: float, out: dict) -> None:
    """A minimal keep-alive HTTP/1.1 client (like wrk): pre-encoded requests, so the load generator
    spends its CPU on sending, not on building requests; it shares the machine's 2 cores."""
    host, port = base.split("//", 1)[1].split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    index = start_index
    try:
        while time.perf_counter() < stop_at:
            request = requests[index % len(requests)]
            index += 1
            began = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
            body = await reader.readexactly(length)
            out["e2e"].append((time.perf_counter() - began) * 1000)
            out["server"].append(float(re.search(rb"dur=([0-9.]+)", head).group(1)))
            code = re.search(rb'"responseCode":"(\d{7})"', body).group(1).decode()
            out["codes"][code] = out["codes"].get(code, 0) + 1
    finally:
        writer.close()


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def process_cpu(pid: int | None) -> float | None:
    """User + system CPU seconds of a process (Linux /proc), or None: the sandbox's own cost, far less
    sensitive to other work on a shared machine than its throughput."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError, TypeError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run(base: str, requests, clients: int, seconds: float, pid: int | None = None) -> dict:
    out = {"e2e": [], "server": [], "codes": {}}
    # Warm-up (connections, first-pass order creation of a few references), not measured.
    await client(base, requests[:50], 0, time.perf_counter() + 0.5, {"e2e": [], "server": [], "codes": {}})
    cpu, began = process_cpu(pid), time.perf_counter()
    stop_at = began + seconds
    await asyncio.gather(*(client(base, requests, i * len(requests) // clients, stop_at, out)
                           for i in range(clients)))
    out["elapsed"] = time.perf_counter() - began
    after = process_cpu(pid)
    out["serverCpuMsPerRequest"] = ((after - cpu) * 1000 / max(1, len(out["e2e"]))
                                    if cpu is not None and after is not None else None)
    return out


def measure(seconds: float, clients: int, unique: int, state: bool = False) -> dict:
    """Run the load against a sandbox process (``state``: with ``--state`` on a new file); the raw samples
    (also used by bench/run.py)."""
    key = generate_private_key()
    with tempfile.TemporaryDirectory() as tmp:
        key_file = Path(tmp) / "merchant.pub.pem"
        key_file.write_text(public_key_pem(key))
        process, base = start_sandbox(key_file, Path(tmp) / "state.db" if state else None)
        try:
            requests = [encode(base, body, headers) for body, headers in presign(key, unique)]
            return asyncio.run(run(base, requests, clients, seconds, process.pid))
        finally:
            process.terminate()
            process.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--unique", type=int, default=2000, help="distinct pre-signed payments")
    parser.add_argument("--state", action="store_true", help="run the sandbox with --state (a new SQLite file)")
    args = parser.parse_args()
    result = measure(args.seconds, args.clients, args.unique, args.state)
    total = len(result["e2e"])
    print(f"dana-uat sandbox benchmark{' with --state' if args.state else ''}: Widget Payment, "
          f"{args.clients} concurrent clients, "
          f"{args.seconds:.0f} s, {args.unique} pre-signed requests cycled, loopback, {os.cpu_count()} CPUs")
    print(f"{'metric':<28}{'p50':>10}{'p95':>10}{'p99':>10}")
    for name, values in (("server time (ms)", result["server"]), ("end-to-end latency (ms)", result["e2e"])):
        print(f"{name:<28}{pct(values, 50):>10.3f}{pct(values, 95):>10.3f}{pct(values, 99):>10.3f}")
    print(f"{'throughput (req/s)':<28}{total / result['elapsed']:>10.1f}")
    if result["serverCpuMsPerRequest"] is not None:
        print(f"{'sandbox CPU per request':<28}{result['serverCpuMsPerRequest']:>10.3f} ms")
    print(f"{'requests':<28}{total:>10}   response codes: {result['codes']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
