"""Benchmark: resident memory of a long-running `dana-uat sandbox` under a bounded soak (issue 22).

    .venv/bin/python bench/soak.py [--requests 50000] [--signed 20000] [--clients 4]

Starts `dana-uat sandbox --port 0 --quiet` on loopback (its own process, as a merchant runs it) and sends,
over keep-alive connections, a warm-up of 2,000 requests, then ``--requests`` more, in the fuzz classes of
tests/sandbox/test_fuzz.py: random bytes, a lone surrogate in a field, nesting 3,000 deep, 15 KiB bodies,
junk headers, and correctly signed Widget Payments with fresh references (``--signed`` of them, each creating
an order; more than the order cap, so every cap in conformance/sandbox/bounds.py is reached). The sandbox's
resident memory (VmRSS of /proc/<pid>/status) is read after the warm-up ("before"), every 10,000 requests and
at the end ("after"); VmHWM is the peak. The journal's ``last`` must equal the requests sent (no entry lost).
Figures are printed and merged into bench/results.json (``results["sandbox soak"]``), never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from conformance.sandbox import bounds  # noqa: E402
from conformance.snap import format_timestamp, generate_private_key, public_key_pem, sign, string_to_sign  # noqa: E402
from conformance.snap.apis import APIS  # noqa: E402
from conformance.snap.timestamps import now  # noqa: E402

PAYMENT = APIS["widget_payment"].path
PATHS = sorted(p for a in APIS.values() if a.family != "notify" for p in a.paths)
PARTNER, MERCHANT = "SOAKPARTNER00000000001", "216620000000000000077"
WARM_UP, SAMPLE_EVERY = 2_000, 10_000


def start_sandbox(key_file: Path) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "conformance.cli", "sandbox", "--port", "0", "--quiet", "--merchant",
         f"{PARTNER}:{MERCHANT}:{key_file}"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    first = process.stdout.readline()                 # "DANA sandbox running at http://..."
    if "running at" not in first:
        process.kill()
        raise SystemExit(f"sandbox did not start: {first!r}")
    return process, first.rsplit(" ", 1)[-1].strip()


def memory(pid: int) -> dict[str, float]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {name: int(fields[name].split()[0]) / 1024 for name in ("VmRSS", "VmHWM")}


def payment(key, valid_up_to: str) -> tuple[str, bytes, dict]:
    body = json.dumps({
        "partnerReferenceNo": str(uuid.uuid4()), "merchantId": MERCHANT,
        "amount": {"value": "1.00", "currency": "IDR"}, "validUpTo": valid_up_to,
        "additionalInfo": {"productCode": "51051000100000000001", "mcc": "5732",
                           "order": {"orderTitle": "soak"}, "envInfo": {"terminalType": "SYSTEM"}},
        "urlParams": [{"url": "https://merchant.example/return", "type": "PAY_RETURN", "isDeeplink": "N"}]},
        separators=(",", ":")).encode()
    stamp = format_timestamp()
    return PAYMENT, body, {"Content-Type": "application/json", "X-TIMESTAMP": stamp, "CHANNEL-ID": "95221",
                           "X-SIGNATURE": sign(key, string_to_sign("POST", PAYMENT, body, stamp)),
                           "X-PARTNER-ID": PARTNER, "X-EXTERNAL-ID": uuid.uuid4().hex}


def malformed(rnd: random.Random, i: int) -> tuple[str, bytes, dict]:
    """One request of the fuzz classes, none of them signed correctly."""
    path = PATHS[i % len(PATHS)]
    headers = {"Content-Type": "application/json", "X-TIMESTAMP": format_timestamp(), "X-PARTNER-ID": PARTNER,
               "X-EXTERNAL-ID": uuid.uuid4().hex, "X-SIGNATURE": "bm90IGEgc2lnbmF0dXJl"}
    kind = i % 5
    if kind == 0:
        body = rnd.randbytes(rnd.randint(0, 2048))
    elif kind == 1:                                   # a lone surrogate, as JSON writes it
        body = json.dumps({"partnerReferenceNo": f"x{i}\ud800", "authCode": "\udfff" + str(i),
                           "merchantId": MERCHANT}).encode()
    elif kind == 2:
        body = b'{"a":' + b"[" * 3000 + b"]" * 3000 + b"}"
    elif kind == 3:                                   # just under the journal's recorded-body limit
        body = json.dumps({"partnerReferenceNo": str(i), "pad": "y" * 15_000}).encode()
    else:                                             # junk header values an HTTP client can send
        body = json.dumps({"partnerReferenceNo": str(i), "merchantId": MERCHANT}).encode()
        headers |= {"X-TIMESTAMP": "".join(rnd.choices("0123456789-:T+ ", k=25)),
                    "CHANNEL-ID": "".join(rnd.choices("abcdefXYZ!#$%", k=rnd.randint(0, 80))),
                    "Authorization-Customer": "Bearer " + "t" * rnd.randint(0, 2000)}
    return path, body, headers


def encode(host: str, path: str, body: bytes, headers: dict) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def send(base: str, requests: list[bytes], codes: dict, clients: int) -> None:
    """Keep-alive clients sharing the list; a client reconnects when the sandbox closes a connection."""
    host, port = base.split("//", 1)[1].split(":")
    queue = iter(requests)

    async def worker():
        reader = writer = None
        for request in queue:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
            body = await reader.readexactly(length)
            found = re.search(rb'"responseCode":"(\d{7})"', body)
            code = found.group(1).decode() if found else head.split(b" ", 2)[1].decode()
            codes[code] = codes.get(code, 0) + 1
            if re.search(rb"(?i)connection: *close", head):
                writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()
    await asyncio.gather(*(worker() for _ in range(clients)))


def journalled(base: str) -> int:
    import httpx

    return httpx.get(f"{base}/sandbox-admin/traffic?since=999999999", trust_env=False, timeout=30).json()["last"]


def measure(requests: int = 50_000, signed: int = 20_000, clients: int = 4, seed: int = 22) -> dict:
    rnd, key = random.Random(seed), generate_private_key()
    valid_up_to = format_timestamp(now() + timedelta(minutes=14))
    with tempfile.TemporaryDirectory() as tmp:
        key_file = Path(tmp) / "merchant.pub.pem"
        key_file.write_text(public_key_pem(key))
        process, base = start_sandbox(key_file)
        host = base.split("//", 1)[1]
        try:
            every = max(1, (requests + WARM_UP) // max(1, signed))   # signed payments spread through the run
            built = []
            for i in range(WARM_UP + requests):
                parts = payment(key, valid_up_to) if i % every == every - 1 else malformed(rnd, i)
                built.append(encode(host, *parts))
            codes: dict[str, int] = {}
            asyncio.run(send(base, built[:WARM_UP], codes, clients))
            before, samples, began = memory(process.pid), [], time.perf_counter()
            for start in range(WARM_UP, WARM_UP + requests, SAMPLE_EVERY):
                asyncio.run(send(base, built[start:start + SAMPLE_EVERY], codes, clients))
                samples.append([start - WARM_UP + min(SAMPLE_EVERY, WARM_UP + requests - start),
                                round(memory(process.pid)["VmRSS"], 1)])
            elapsed, after = time.perf_counter() - began, memory(process.pid)
            last = journalled(base)
        finally:
            process.terminate()
            process.wait(timeout=10)
    return {"requests": requests, "warmUp": WARM_UP, "signedPayments": sum(codes.get(c, 0) for c in ("2005400",)),
            "clients": clients, "seconds": round(elapsed, 1),
            "rssBeforeMiB": round(before["VmRSS"], 1), "rssAfterMiB": round(after["VmRSS"], 1),
            "rssPeakMiB": round(after["VmHWM"], 1), "rssSamplesMiB": samples,
            "journalled": last, "sent": WARM_UP + requests, "codes": dict(sorted(codes.items())),
            "caps": {name: getattr(bounds, name) for name in dir(bounds) if name.isupper()}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--signed", type=int, default=20_000, help="correctly signed Widget Payments among them")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results.json"))
    args = parser.parse_args()
    load_before = os.getloadavg()
    result = measure(args.requests, args.signed, args.clients)
    machine = {"cpus": os.cpu_count(), "python": platform.python_version(), "loadavgBefore": load_before,
               "loadavgAfter": os.getloadavg()}
    print(f"sandbox soak: {result['requests']} requests after a {result['warmUp']}-request warm-up, "
          f"{result['signedPayments']} signed payments accepted, {result['seconds']} s")
    print(f"  RSS before {result['rssBeforeMiB']} MiB, after {result['rssAfterMiB']} MiB, peak {result['rssPeakMiB']} MiB")
    print("  RSS every 10,000: " + ", ".join(f"{n}: {mib}" for n, mib in result["rssSamplesMiB"]))
    print(f"  journalled {result['journalled']} of {result['sent']} sent; codes {result['codes']}")
    out = Path(args.out)
    record = json.loads(out.read_text()) if out.is_file() else {"results": {}}
    command = " ".join(["python bench/soak.py", *sys.argv[1:]])
    record.setdefault("results", {})["sandbox soak"] = result | {"command": command}
    # as bench/run.py --only does: the other figures stay, each run keeps the machine's load it ran under
    record.setdefault("runs", {})[command] = {"machine": machine, "results": ["sandbox soak"]}
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"written: {os.path.relpath(out, ROOT)} (results[\"sandbox soak\"])")
    return 0


if __name__ == "__main__":
    sys.exit(main())
