"""A stable DANA gateway key for the sandbox, kept in a file between runs.

A merchant backend that verifies Finish Notify signatures is configured once with DANA's public key.
The sandbox signs with a fresh key per start unless it is given a file: then the key is read from it,
or generated and saved there (PKCS#8 PEM, owner read/write only) when the file does not exist yet.
The public half is written next to it (``<name>.pub.pem``) for the merchant to configure. The
private key is never printed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

from conformance.snap.keys import generate_private_key, load_private_key_file, private_key_pem, public_key_pem


@dataclass(frozen=True)
class DanaKey:
    private_key: rsa.RSAPrivateKey
    path: Path
    public_path: Path
    created: bool


def public_path_for(path: Path) -> Path:
    return path.with_name((path.stem if path.suffix == ".pem" else path.name) + ".pub.pem")


def load_or_create(path: str | Path) -> DanaKey:
    """Read the key at ``path``, or create it there; raises OSError or KeyFormatError."""
    path = Path(path).expanduser()
    created = not path.exists()
    if created:
        key = generate_private_key()
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two sandboxes starting at once never overwrite each other's key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(private_key_pem(key))
    else:
        key = load_private_key_file(path)
    public = public_path_for(path)
    public.write_text(public_key_pem(key), encoding="ascii")
    return DanaKey(key, path, public, created)
