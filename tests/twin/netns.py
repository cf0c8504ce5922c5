"""Run a command inside a private network and mount namespace where DANA's hostnames are this machine.

``python netns.py HOSTS_FILE -- COMMAND...`` is started by a test under ``unshare --net --mount``: it brings
the namespace's loopback up, bind-mounts HOSTS_FILE over ``/etc/hosts`` (seen by this namespace only), then
replaces itself with COMMAND. Nothing it starts can reach beyond the namespace's own loopback.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import socket
import struct
import sys

SIOCGIFFLAGS, SIOCSIFFLAGS = 0x8913, 0x8914
IFF_UP = 0x1
MS_BIND = 4096


def loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        flags = struct.unpack("16sH", fcntl.ioctl(s, SIOCGIFFLAGS, struct.pack("16sH", b"lo", 0)))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH", b"lo", flags | IFF_UP))


def bind_mount(source: str, target: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.mount(source.encode(), target.encode(), None, MS_BIND, None) != 0:
        raise OSError(ctypes.get_errno(), f"bind-mounting {source} over {target}")


def main(argv: list[str]) -> None:
    hosts, sep, *command = argv
    if sep != "--" or not command:
        raise SystemExit("usage: netns.py HOSTS_FILE -- COMMAND...")
    loopback_up()
    bind_mount(hosts, "/etc/hosts")
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
