"""Where student code runs: a private loopback network, a read-only view of the machine, limits.

One grading run (install + every episode) happens in a worker process that first moves itself
into a fresh network namespace holding only `lo`, and a mount namespace with its own /dev/shm
(`enter_private_network`). The simulator bridge in that worker and the student's nodes then
find each other on loopback and share memory on that private /dev/shm, as Fast DDS needs for
camera frames, while nothing in the run can reach another machine, another run, or a service
on this machine's own loopback (measured: ../shared/notes/sandbox-findings.md).

Every student process (the package build, which runs their setup.py, and each node) starts
under bubblewrap (`Sandbox.command`): its own user (nobody, no capabilities), pid, IPC and UTS
namespaces; the system, the Python environment and the platform packages read-only; its own
package prefix read-only; a private /tmp; and none of the grader, the scenarios (hidden ones
included) or the other runs. A per-run cgroup (`RunCgroup`: memory, pids and CPU, on cgroup v1,
v2 or a hybrid of both) bounds what all its processes together may take: a fork bomb, a memory
hog or a busy loop stops there, not at the machine or at the other runs.

Without bubblewrap, namespaces or cgroups (a student's laptop without root), grading still runs
with what is left, and `SandboxInfo` says plainly what was missing: result.json and the
report carry it. `probe_sandbox` sets a run's sandbox up and tears it down in a throwaway
process: `rootroute doctor` reports it, `rootroute batch` refuses to grade a class without it.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import os
import shutil
import socket
import stat
import struct
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from curriculum_pkg.cgroups import CONCURRENT_RUNS_ENV, RunCgroup

# Linux constants (sched.h, mount.h, if.h, sockios.h)
CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
IFF_UP = 0x1
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914

SHM_SIZE = "1g"  # the run's /dev/shm: Fast DDS segments (8 MiB for the camera) and students'
NOBODY = 65534
FILE_SIZE_LIMIT_BYTES = 256 << 20  # any one file a student process writes, its log included
# Disk a run's student code can fill, in all (a full disk would take down the grader and every
# other run on the machine):
INSTALL_SPACE_BYTES = 1 << 30  # the install (source copies, build output, the prefix): a tmpfs
TMP_SIZE_BYTES = 1 << 30  # each student process's private /tmp (memory, not disk; bwrap --size)
# Last of bubblewrap's mounts: its root is a tmpfs of half the machine's memory, holding the
# folders it made for the binds (/work/..., /home/...); read-only, nothing can be written there.
READ_ONLY_ROOT = ("--remount-ro", "/")
RUN_LOG_BUDGET_BYTES = 1 << 30  # the node logs of all episodes of a run together
MIN_LOG_LIMIT_BYTES = 1 << 20  # a node's log once the budget is spent (room for a traceback)


@dataclass
class SandboxInfo:
    """What isolation a run got. `missing` explains, in both languages, what it lacked."""

    requested: bool = True  # False: graded without a sandbox on purpose (--no-sandbox)
    network: bool = False  # private loopback-only network namespace
    filesystem: bool = False  # bubblewrap per student process
    cgroup_version: int | None = None  # 1 or 2: the hierarchy holding the run's limits
    memory_limit_bytes: int | None = None  # each None when that per-run limit is not enforced
    pids_limit: int | None = None
    cpu_limit_cores: float | None = None
    missing: list[tuple[str, str]] = field(default_factory=list)  # (en, ko)

    @property
    def cgroups(self) -> bool:
        """All three per-run limits hold: memory, processes, CPU."""
        limits = (self.memory_limit_bytes, self.pids_limit, self.cpu_limit_cores)
        return all(limit is not None for limit in limits)

    @property
    def complete(self) -> bool:
        return self.network and self.filesystem and self.cgroups

    def as_dict(self) -> dict:
        return {
            "requested": self.requested,
            "network_namespace": self.network,
            "bubblewrap": self.filesystem,
            "cgroup_limits": self.cgroups,
            "cgroup_version": self.cgroup_version,
            "memory_limit_bytes": self.memory_limit_bytes,
            "pids_limit": self.pids_limit,
            "cpu_limit_cores": self.cpu_limit_cores,
            "complete": self.complete,
            "missing": [{"en": en, "ko": ko} for en, ko in self.missing],
        }

    @classmethod
    def from_dict(cls, data: dict) -> SandboxInfo:
        return cls(
            requested=data["requested"],
            network=data["network_namespace"],
            filesystem=data["bubblewrap"],
            cgroup_version=data.get("cgroup_version"),
            memory_limit_bytes=data.get("memory_limit_bytes"),
            pids_limit=data.get("pids_limit"),
            cpu_limit_cores=data.get("cpu_limit_cores"),
            missing=[(m["en"], m["ko"]) for m in data["missing"]],
        )


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _bring_up_loopback() -> None:
    """`ip link set lo up`, without needing iproute2."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        ifreq = struct.pack("16sH14s", b"lo", 0, b"")
        flags = struct.unpack("16sH14s", fcntl.ioctl(sock, SIOCGIFFLAGS, ifreq))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sH14s", b"lo", flags | IFF_UP, b""))


def enter_private_network(info: SandboxInfo) -> None:
    """Move this process into its own network namespace (only `lo`, up) and mount namespace
    (its own /dev/shm). Must run before the process starts any thread (numpy, rclpy): a mount
    or user namespace can only be entered by a single-threaded process."""
    libc = _libc()
    flags = CLONE_NEWNET | CLONE_NEWNS
    try:
        if os.geteuid() != 0:  # unprivileged: a user namespace in which we are root
            uid, gid = os.geteuid(), os.getegid()
            _check(libc.unshare(CLONE_NEWUSER | flags), "unshare")
            Path("/proc/self/setgroups").write_text("deny")
            Path("/proc/self/uid_map").write_text(f"0 {uid} 1")
            Path("/proc/self/gid_map").write_text(f"0 {gid} 1")
        else:
            _check(libc.unshare(flags), "unshare")
        # Our mounts must not propagate back to the machine's namespace.
        _check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate")
        options = f"mode=1777,size={SHM_SIZE}".encode()
        _check(libc.mount(b"rootroute-shm", b"/dev/shm", b"tmpfs", 0, options), "mount /dev/shm")
        _bring_up_loopback()
    except OSError as exc:
        info.missing.append(
            (
                f"no private network namespace ({exc}): nodes could reach the network",
                f"전용 네트워크 네임스페이스를 만들지 못했습니다 ({exc}): 노드가 네트워크에 접근할 수 있습니다",
            )
        )
        return
    info.network = True


def mount_install_space(path: Path, info: SandboxInfo) -> None:
    """Mount a tmpfs of INSTALL_SPACE_BYTES at `path` (created), in the private mount namespace
    `enter_private_network` made: a setup.py that writes without end fills it, never the
    machine's disk, and it is gone with the worker. Without that namespace `path` stays a plain
    folder, and `info.missing` says so (unless the sandbox is off on purpose)."""
    path.mkdir(parents=True, exist_ok=True)
    if not info.requested:
        return  # graded without the sandbox on purpose: the report says so already
    why = "no private mount namespace"
    if info.network:
        options = f"mode=0755,size={INSTALL_SPACE_BYTES}".encode()
        try:
            _check(
                _libc().mount(b"rootroute-install", str(path).encode(), b"tmpfs", 0, options),
                "mount install space",
            )
            return
        except OSError as exc:
            why = str(exc)
    info.missing.append(
        (
            f"the install is not confined to {INSTALL_SPACE_BYTES >> 20} MiB ({why}): a setup.py "
            "could fill the disk",
            f"설치 공간을 {INSTALL_SPACE_BYTES >> 20} MiB로 제한하지 못했습니다 ({why}): "
            "setup.py가 디스크를 가득 채울 수 있습니다",
        )
    )


def log_limit_bytes(nodes: int, episodes: int) -> int:
    """Each node's log limit (RLIMIT_FSIZE) in a run of `episodes` with `nodes` nodes: its share
    of RUN_LOG_BUDGET_BYTES, at most FILE_SIZE_LIMIT_BYTES, at least MIN_LOG_LIMIT_BYTES. So 32
    nodes printing in every episode cannot write 32 x 256 MiB an episode; a node that prints a
    few lines a second never notices. The same in every episode of the run: a limit must not
    tell a node which episode it is in."""
    share = RUN_LOG_BUDGET_BYTES // max(1, nodes * episodes)
    return max(MIN_LOG_LIMIT_BYTES, min(FILE_SIZE_LIMIT_BYTES, share))


@dataclass(frozen=True)
class Limits:
    """Per-process limits (setrlimit) of a student process and everything it starts."""

    cpu_s: int
    address_space_bytes: int = 4 << 30  # rclpy needs ~600 MB of address space; 4 GiB is generous
    open_files: int = 1024
    file_size_bytes: int = FILE_SIZE_LIMIT_BYTES


MISSING_LIMIT = {  # controller -> (en, ko) of SandboxInfo.missing, {why} the cause
    "memory": (
        "no memory limit per run ({why}): only per-process limits bound a memory hog",
        "채점별 메모리 제한을 걸지 못했습니다 ({why}): 메모리를 과하게 쓰는 코드는 "
        "프로세스별 제한으로만 막습니다",
    ),
    "pids": (
        "no process limit per run ({why}): a fork bomb can fill the machine's process table",
        "채점별 프로세스 수 제한을 걸지 못했습니다 ({why}): 포크 폭탄이 컴퓨터 전체의 "
        "프로세스 자리를 채울 수 있습니다",
    ),
    "cpu": (
        "no CPU limit per run ({why}): one submission's busy loops can slow the runs graded "
        "beside it",
        "채점별 CPU 제한을 걸지 못했습니다 ({why}): 한 제출물의 무한 루프가 함께 채점 중인 "
        "다른 제출물을 느리게 할 수 있습니다",
    ),
}


@dataclass
class Sandbox:
    """Builds the command line that runs one student process inside the run's sandbox."""

    info: SandboxInfo
    bwrap: str | None = None
    cgroup: RunCgroup | None = None
    readonly: tuple[Path, ...] = ()  # platform paths every student process may read
    tmp_size_bytes: int | None = TMP_SIZE_BYTES  # None: bubblewrap before 0.8 has no --size

    @classmethod
    def for_run(
        cls, info: SandboxInfo, run_id: str, readonly: tuple[Path, ...], enabled: bool = True
    ) -> Sandbox:
        box = cls(info, readonly=readonly)
        if not enabled:
            info.missing.append(
                (
                    "the sandbox was switched off for this run (--no-sandbox)",
                    "이번 채점은 샌드박스를 끄고 실행했습니다 (--no-sandbox)",
                )
            )
            return box
        box.bwrap = shutil.which("bwrap")
        if box.bwrap is None:
            info.missing.append(
                (
                    "bubblewrap (bwrap) is not installed: student code can read and write "
                    "whatever the grader can",
                    "bubblewrap(bwrap)이 설치되어 있지 않습니다: 학생 코드가 채점기와 같은 파일 권한으로 실행됩니다",
                )
            )
        elif not box._bwrap_works() and not box._works_without_tmp_size(info):
            box.bwrap = None
            info.missing.append(
                (
                    "bubblewrap cannot create namespaces here: student code runs unsandboxed",
                    "이 환경에서는 bubblewrap이 네임스페이스를 만들 수 없어 학생 코드가 샌드박스 없이 실행됩니다",
                )
            )
        info.filesystem = box.bwrap is not None
        cgroup = RunCgroup(run_id)
        failed = cgroup.create()
        if cgroup.enforced:
            box.cgroup = cgroup
            info.cgroup_version = cgroup.version
        else:
            cgroup.kill_all(0)
        info.memory_limit_bytes = cgroup.enforced.get("memory")
        info.pids_limit = cgroup.enforced.get("pids")
        info.cpu_limit_cores = cgroup.enforced.get("cpu")
        for controller, why in failed.items():
            en, ko = MISSING_LIMIT[controller]
            info.missing.append((en.format(why=why), ko.format(why=why)))
        return box

    def _works_without_tmp_size(self, info: SandboxInfo) -> bool:
        self.tmp_size_bytes = None
        if not self._bwrap_works():
            return False
        info.missing.append(
            (
                "this bubblewrap cannot size the private /tmp (--size needs bubblewrap 0.8): only "
                "the run's memory limit bounds what a node writes there",
                "이 bubblewrap은 개인 /tmp의 크기를 제한하지 못합니다 (--size는 bubblewrap 0.8부터): "
                "노드가 /tmp에 쓰는 양은 채점별 메모리 제한으로만 막힙니다",
            )
        )
        return True

    def _bwrap_works(self) -> bool:
        probe = [*self._bwrap_args(env={}, cwd="/tmp/home"), *READ_ONLY_ROOT, "--", "/bin/true"]
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            return subprocess.run(probe, capture_output=True, timeout=20).returncode == 0
        return False

    def command(
        self,
        argv: list[str],
        *,
        env: dict[str, str],
        limits: Limits,
        cwd: str = "/tmp/home",
        readonly: tuple[Path, ...] = (),
        writable: tuple[Path, ...] = (),
    ) -> list[str]:
        """argv wrapped for the sandbox: a shell that joins the run's cgroups and sets the
        limits before anything of the student runs (so not one fork escapes them), then
        bubblewrap with exactly these paths visible besides the system and the platform's."""
        cmd = list(argv)
        if self.bwrap is not None:
            args = self._bwrap_args(env, cwd)
            for path in readonly:
                args += ["--ro-bind", str(path), str(path)]
            for path in writable:
                args += ["--bind", str(path), str(path)]
            cmd = [*args, *READ_ONLY_ROOT, "--", *cmd]
        groups = self.cgroup.procs_files if self.cgroup is not None else []
        script = (
            'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; '
            "n=$((n - 1)); done; "
            f"ulimit -v {limits.address_space_bytes // 1024} && ulimit -t {limits.cpu_s} && "
            f"ulimit -n {limits.open_files} && ulimit -f {limits.file_size_bytes // 512} && "
            'ulimit -c 0 && exec "$@"'  # dash counts file sizes in 512-byte blocks
        )
        return ["/bin/sh", "-c", script, "sandbox", str(len(groups)), *groups, *cmd]

    def _bwrap_args(self, env: dict[str, str], cwd: str) -> list[str]:
        args = [self.bwrap or "bwrap", "--unshare-user", "--uid", str(NOBODY), "--gid", str(NOBODY)]
        args += ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
        args += ["--die-with-parent", "--new-session", "--hostname", "rootroute"]
        # The private /tmp first: a later bind under /tmp (a checkout or a venv there, the run's
        # prefix) must land on top of it, not be hidden by it.
        if self.tmp_size_bytes is not None:
            args += ["--size", str(self.tmp_size_bytes)]
        args += ["--tmpfs", "/tmp", "--dir", "/tmp/home"]
        for system in ("/usr", "/lib", "/lib64", "/bin", "/sbin"):
            args += ["--ro-bind-try", system, system]
        # Inside its user namespace the student is the owner of every file the machine's root
        # owns, so of /etc only what anyone may read is bound (never /etc/shadow or a key).
        for path in _public_etc():
            args += ["--ro-bind", path, path]
        args += ["--ro-bind-try", "/sys/devices/system/cpu", "/sys/devices/system/cpu"]
        for path in _python_paths() + list(self.readonly):
            args += ["--ro-bind", str(path), str(path)]
        # /dev/shm is the run's own (enter_private_network): shared with the simulator, as Fast
        # DDS's shared memory needs; an empty one would silently lose every message.
        args += ["--proc", "/proc", "--dev", "/dev", "--bind", "/dev/shm", "/dev/shm"]
        args += ["--chdir", cwd, "--clearenv"]
        for key, value in env.items():
            args += ["--setenv", key, value]
        return args


# What programs read from /etc: users and groups (getpwuid), host names, the dynamic linker's
# cache, time zone, fonts (matplotlib), MIME types, the alternatives some /usr/bin links go through.
ETC_ENTRIES = (
    "passwd", "group", "hosts", "hostname", "nsswitch.conf", "host.conf", "ld.so.cache",
    "ld.so.conf", "ld.so.conf.d", "localtime", "timezone", "fonts", "mime.types", "alternatives",
    "os-release", "debian_version", "ssl/certs", "ssl/openssl.cnf",
)  # fmt: skip


def _public_etc() -> list[str]:
    """The ETC_ENTRIES that exist and that every user of the machine may read."""
    public = []
    for name in ETC_ENTRIES:
        path = Path("/etc") / name
        with contextlib.suppress(OSError):
            if path.stat().st_mode & stat.S_IROTH:
                public.append(str(path))
    return public


def _python_paths() -> list[Path]:
    """The interpreter and the environment its packages live in (a venv and its base)."""
    paths = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}
    return sorted(
        p for p in paths if not str(p).startswith(("/usr/", "/etc/")) and p != Path("/usr")
    )


# What a student's node may import from the platform besides ROS: the shared helpers (common_pkg),
# the simulator's, and the packages whose nodes a launch file may start
# (submission.PLATFORM_PACKAGES). Not curriculum_pkg: it holds the grader, the reference solutions
# and the scenarios, hidden ones included.
PLATFORM_MODULES = ("common_pkg", "sim_pkg", "planning_pkg", "perception_pkg", "teleop_pkg")


def platform_paths() -> tuple[Path, ...]:
    """Read-only in every sandbox: the platform packages' folders and the robot's config/."""
    import importlib.util

    from common_pkg.profile import config_dir

    paths = [config_dir().resolve()]
    for name in PLATFORM_MODULES:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            package = Path(next(iter(spec.submodule_search_locations))).resolve()
            # An editable install puts the package's project folder on sys.path: bind that.
            paths.append(package.parent if (package.parent / "setup.py").exists() else package)
    return tuple(paths)


def probe_sandbox(concurrent_runs: int = 1, timeout_s: float = 60.0) -> SandboxInfo:
    """Set a grading run's sandbox up in a throwaway process, as the grading worker does, and
    take it down again: what `rootroute doctor` reports and `rootroute batch` requires.
    `concurrent_runs`: the runs that will be graded at once (it sets each one's CPU share)."""
    env = {**os.environ, CONCURRENT_RUNS_ENV: str(concurrent_runs)}
    cmd = [sys.executable, "-m", "curriculum_pkg.sandbox", f"probe-{os.getpid()}"]
    stderr = ""
    try:
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, env=env)
        stderr = run.stderr.strip()[-300:]
        return SandboxInfo.from_dict(json.loads(run.stdout.strip().splitlines()[-1]))
    except (OSError, subprocess.TimeoutExpired, IndexError, KeyError, TypeError, ValueError) as exc:
        why = stderr or f"{type(exc).__name__}: {exc}"
        return SandboxInfo(
            missing=[(f"the sandbox probe failed: {why}", f"샌드박스 점검이 실패했습니다: {why}")]
        )


def _probe(run_id: str) -> None:
    """`python -m curriculum_pkg.sandbox RUN_ID`: the throwaway process of probe_sandbox."""
    info = SandboxInfo()
    enter_private_network(info)  # first, while this process still has one thread
    box = Sandbox.for_run(info, run_id, ())
    if box.cgroup is not None:
        box.cgroup.kill_all(0)
    print(json.dumps(info.as_dict()))


if __name__ == "__main__":
    _probe(sys.argv[1])
