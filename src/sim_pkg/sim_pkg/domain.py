"""Lease a ROS_DOMAIN_ID that no other run on this machine is using (ROS-free).

Every grading run and every multi-process test gets its own domain, with discovery limited to
localhost, so that parallel runs never hear each other. A lease is an flock on a file in
/tmp/rootroute-domains, so it is released even if the process holding it dies.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from common_pkg.distro import DEFAULT_DISTRO, localhost_only_env

LEASE_DIR = Path(os.environ.get("ROOTROUTE_DOMAIN_DIR", "/tmp/rootroute-domains"))
# Fast DDS maps domain d to UDP ports 7400 + 250 d + ...; 1..101 keeps every port below 32768.
DOMAIN_RANGE = range(20, 101)


class DomainLease:
    def __init__(self, domain_id: int, fd: int):
        self.domain_id = domain_id
        self._fd = fd

    def release(self) -> None:
        if self._fd >= 0:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = -1

    def env(self, distro: str = DEFAULT_DISTRO) -> dict[str, str]:
        """Environment variables that put a process on this domain, localhost only, the way
        `distro` reads it (ROS_LOCALHOST_ONLY on Humble, ROS_AUTOMATIC_DISCOVERY_RANGE on Jazzy)."""
        return {"ROS_DOMAIN_ID": str(self.domain_id), **localhost_only_env(distro)}

    def __enter__(self) -> DomainLease:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def lease_domain() -> DomainLease:
    LEASE_DIR.mkdir(parents=True, exist_ok=True)
    start = os.getpid() % len(DOMAIN_RANGE)  # spread parallel runs over the range
    for i in range(len(DOMAIN_RANGE)):
        domain = DOMAIN_RANGE[(start + i) % len(DOMAIN_RANGE)]
        fd = os.open(LEASE_DIR / f"{domain}.lock", os.O_CREAT | os.O_RDWR, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return DomainLease(domain, fd)
    raise RuntimeError(f"all ROS domains {DOMAIN_RANGE.start}-{DOMAIN_RANGE.stop - 1} are in use")
