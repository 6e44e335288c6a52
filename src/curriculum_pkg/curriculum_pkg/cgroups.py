"""Per-run cgroups: memory, process and CPU limits for all student processes of one run, on
cgroup v1, v2 or a hybrid of both (ROS-free). Used by curriculum_pkg.sandbox.

The v2 functions are plain functions of a cgroup folder, so their file layout is tested against a
temporary folder where the machine binds its controllers to v1 (tests/hostile/test_cgroups.py).
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

MEMORY_LIMIT_BYTES = 6 << 30  # all student processes of a run together (24 GiB machine)
PIDS_LIMIT = 512  # processes + threads of all student processes together (rclpy: ~15 a node)
CGROUP_ROOT = Path("/sys/fs/cgroup")
CGROUP_CONTROLLERS = ("memory", "pids", "cpu")  # one limit each, per run


# Per-run cgroups. cgroup v1 mounts one hierarchy per controller (memory, pids, cpu each in its
# own folder); v2 has one hierarchy, in which a group enables controllers for its children
# (cgroup.subtree_control). A hybrid machine mounts both and binds the controllers to v1. Either
# way a run's groups go below the grader's own group (/proc/self/cgroup): all that a delegated v2
# subtree (systemd's Delegate=yes, a container) lets us write, and the run then stays inside
# whatever limits the grader itself was given.
RUN_GROUPS = "rootroute"  # <the grader's group>/rootroute/<run id>: one run's group
GRADER_LEAF = "rootroute-grader"  # v2: where the grader's own processes move (see _vacate)
CPU_PERIOD_US = 100_000  # the CFS period: the kernel's default, on both versions
CPU_WEIGHT_V1, CPU_WEIGHT_V2 = 1024, 100  # the defaults, written out: every run weighs the same
CONCURRENT_RUNS_ENV = "ROOTROUTE_CONCURRENT_RUNS"  # `rootroute batch -j N` tells its workers N


def cpu_cores_per_run(concurrent_runs: int = 1, cpus: float | None = None) -> float:
    """The CPU policy. A run's student processes together may use the run's fair share of the
    machine (a CFS quota): the CPUs we may use divided by the runs graded at once. A lone
    `grade` may use every CPU; in a batch of N workers a busy loop slows its own run only."""
    cpus = cpus or len(os.sched_getaffinity(0))
    share = max(cpus / max(concurrent_runs, 1), 0.1)
    return math.floor(share * 100) / 100  # rounded down: never above the grader's own quota


@dataclass(frozen=True)
class CgroupLimits:
    """What all student processes of one run may use together."""

    memory_bytes: int = MEMORY_LIMIT_BYTES
    pids: int = PIDS_LIMIT
    cpu_cores: float = 1.0

    @classmethod
    def for_this_machine(cls, layout: CgroupLayout) -> CgroupLimits:
        """The CPUs we may use: those we may run on, within our own group's quota if any."""
        try:
            runs = int(os.environ.get(CONCURRENT_RUNS_ENV, "1"))
        except ValueError:
            runs = 1
        cpus = min(len(os.sched_getaffinity(0)), layout.cpu_quota_cores() or math.inf)
        return cls(cpu_cores=cpu_cores_per_run(runs, cpus))

    @property
    def cpu_quota_us(self) -> int:
        return max(1000, round(self.cpu_cores * CPU_PERIOD_US))  # the kernel's minimum is 1 ms

    def of(self, controller: str) -> int | float:
        return {"memory": self.memory_bytes, "pids": self.pids, "cpu": self.cpu_cores}[controller]


@dataclass(frozen=True)
class CgroupLayout:
    """This process's cgroups: its group's folder in each v1 hierarchy of a controller we
    limit, and in the v2 (unified) hierarchy, with the controllers that group offers."""

    v1: dict[str, Path] = field(default_factory=dict)  # controller -> our group's folder
    v2: Path | None = None
    v2_controllers: frozenset[str] = frozenset()

    @property
    def version(self) -> int | None:
        """1 when a controller we limit is bound to v1 (a hybrid machine binds them all there),
        2 when the unified hierarchy offers one, None when neither has any."""
        if self.v1:
            return 1
        if self.v2 is not None and self.v2_controllers & set(CGROUP_CONTROLLERS):
            return 2
        return None

    def cpu_quota_cores(self) -> float | None:
        """The smallest CPU quota of our group and its ancestors (a container's --cpus), in
        cores; None without one. A run's quota may not exceed it (v1 refuses one: EINVAL)."""
        quotas = []
        if self.version == 1 and "cpu" in self.v1:
            folder = self.v1["cpu"]
            while (folder / "cpu.cfs_quota_us").exists() and folder != folder.parent:
                with contextlib.suppress(OSError, ValueError):
                    quota = int((folder / "cpu.cfs_quota_us").read_text())
                    if quota > 0:  # -1: none
                        quotas.append(quota / int((folder / "cpu.cfs_period_us").read_text()))
                folder = folder.parent
        elif self.version == 2:
            folder = self.v2
            while (folder / "cpu.max").exists() and folder != folder.parent:
                with contextlib.suppress(OSError, ValueError):
                    quota, period = (folder / "cpu.max").read_text().split()
                    if quota != "max":
                        quotas.append(int(quota) / int(period))
                folder = folder.parent
        return min(quotas, default=None)

    def describe(self) -> tuple[str, str]:
        """(en, ko), for `rootroute doctor`."""
        offered = " ".join(sorted(self.v2_controllers)) or "-"
        if self.version == 1 and self.v2 is not None:
            return (
                f"cgroup v1 (hybrid: the cgroup2 hierarchy at {self.v2} offers only: {offered})",
                f"cgroup v1 (하이브리드: {self.v2}의 cgroup2 계층에는 {offered} 컨트롤러뿐입니다)",
            )
        if self.version == 1:
            return "cgroup v1", "cgroup v1"
        if self.version == 2:
            return f"cgroup v2 ({self.v2}: {offered})", f"cgroup v2 ({self.v2}: {offered})"
        return (
            "no cgroup hierarchy offers a memory, pids or cpu controller",
            "메모리·프로세스·CPU를 제한할 cgroup 컨트롤러가 없습니다",
        )

    @classmethod
    def detect(
        cls, mountinfo: Path = Path("/proc/self/mountinfo"), own: Path = Path("/proc/self/cgroup")
    ) -> CgroupLayout:
        try:
            mounts, memberships = mountinfo.read_text(), own.read_text()
        except OSError:
            return cls()
        paths = {}  # controller -> our group's path in its hierarchy; "" -> in the unified one
        for line in memberships.splitlines():  # "4:memory:/a/b" (v1), "0::/a/b" (v2)
            hierarchy, _, rest = line.partition(":")
            names, _, path = rest.partition(":")
            if hierarchy == "0" and not names:
                paths[""] = path
            for name in filter(None, names.split(",")):
                paths[name] = path
        v1: dict[str, Path] = {}
        v2 = None
        # "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory"
        for line in mounts.splitlines():
            fields = line.split()
            if "-" not in fields[6:]:
                continue
            tail = fields[fields.index("-", 6) + 1 :]
            root, point = _unescape(fields[3]), Path(_unescape(fields[4]))
            if tail[0] == "cgroup":
                for name in tail[2].split(","):
                    if name in CGROUP_CONTROLLERS and name in paths and name not in v1:
                        v1[name] = _group_folder(point, root, paths[name])
            elif tail[0] == "cgroup2" and v2 is None and "" in paths:
                v2 = _group_folder(point, root, paths[""])
        controllers: frozenset[str] = frozenset()
        if v2 is not None:
            if v2.name == GRADER_LEAF:  # an earlier run moved us there: runs go beside it
                v2 = v2.parent
            with contextlib.suppress(OSError):
                controllers = frozenset((v2 / "cgroup.controllers").read_text().split())
        return cls(v1, v2, controllers)


def _unescape(text: str) -> str:
    """mountinfo writes space, tab, newline and backslash as octal escapes (\\040)."""
    for code in ("040", "011", "012", "134"):
        text = text.replace("\\" + code, chr(int(code, 8)))
    return text


def _group_folder(mount_point: Path, mount_root: str, group: str) -> Path:
    """Where `group` (a path in its hierarchy) is, below a mount of that hierarchy's `mount_root`."""
    if mount_root != "/" and group != mount_root and not group.startswith(mount_root + "/"):
        return mount_point  # our group is outside what is mounted: the closest we can see
    return mount_point / group.removeprefix(mount_root).lstrip("/")


def _subtree_controllers(group: Path) -> set[str]:
    """The controllers `group` enables for its children (a layout test's file holds "+cpu")."""
    with contextlib.suppress(OSError):
        return {c.lstrip("+") for c in (group / "cgroup.subtree_control").read_text().split()}
    return set()


def _append(path: Path, value: str) -> None:
    """One write of one value, as cgroup files take them (cgroup.procs: one pid a write)."""
    with path.open("a") as file:
        file.write(value)


def _make_group(folder: Path) -> None:
    """mkdir -p, again if another run's kill_all removed an empty rootroute/ meanwhile."""
    for _attempt in range(2):
        with contextlib.suppress(FileNotFoundError):
            folder.mkdir(parents=True, exist_ok=True)
            return
    folder.mkdir(parents=True, exist_ok=True)


def _vacate(base: Path) -> None:
    """cgroup v2's "no internal processes" rule: a group that enables controllers for its
    children may hold no process itself (the root, which has no cgroup.type, excepted). So the
    processes of the grader's group (this one, the batch, the shell) move to a leaf first."""
    if not (base / "cgroup.type").exists():
        return
    pids = (base / "cgroup.procs").read_text().split()
    if pids:
        (base / GRADER_LEAF).mkdir(exist_ok=True)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):  # ended meanwhile
            _append(base / GRADER_LEAF / "cgroup.procs", f"{pid}\n")


def _enable(group: Path, controllers: list[str], failed: dict[str, str]) -> list[str]:
    """Enable `controllers` for the children of `group`; returns those that are."""
    for controller in controllers:
        if controller not in _subtree_controllers(group):
            try:
                _append(group / "cgroup.subtree_control", f"+{controller}\n")
            except OSError as exc:
                failed[controller] = f"{group}/cgroup.subtree_control +{controller}: {exc.strerror}"
    enabled = _subtree_controllers(group)
    return [c for c in controllers if c in enabled and c not in failed]


def limit_files(version: int, limits: CgroupLimits) -> dict[str, list[tuple[str, str, bool]]]:
    """controller -> the files of a run's group that set its limit: (name, value, required).
    The swap files are optional: they are absent when the kernel does not account swap."""
    if version == 1:
        return {
            "memory": [
                ("memory.limit_in_bytes", str(limits.memory_bytes), True),
                ("memory.memsw.limit_in_bytes", str(limits.memory_bytes), False),  # + swap
            ],
            "pids": [("pids.max", str(limits.pids), True)],
            "cpu": [
                ("cpu.cfs_period_us", str(CPU_PERIOD_US), True),
                ("cpu.cfs_quota_us", str(limits.cpu_quota_us), True),
                ("cpu.shares", str(CPU_WEIGHT_V1), True),
            ],
        }
    return {
        "memory": [
            ("memory.max", str(limits.memory_bytes), True),
            ("memory.swap.max", "0", False),
        ],
        "pids": [("pids.max", str(limits.pids), True)],
        "cpu": [
            ("cpu.max", f"{limits.cpu_quota_us} {CPU_PERIOD_US}", True),
            ("cpu.weight", str(CPU_WEIGHT_V2), True),
        ],
    }


def _write_limits(
    groups: dict[str, Path], files: dict, limits: CgroupLimits, failed: dict[str, str]
) -> dict[str, int | float]:
    """Make each controller's group and write its limit; returns controller -> the limit
    for those that hold, and puts why in `failed` for the others."""
    enforced = {}
    for controller, folder in groups.items():
        try:
            _make_group(folder)
            for name, value, required in files[controller]:
                try:
                    (folder / name).write_text(value)
                except OSError:
                    if required:
                        raise
        except OSError as exc:
            failed[controller] = str(exc)
        else:
            enforced[controller] = limits.of(controller)
    return enforced


def create_v1_groups(
    groups: dict[str, Path], limits: CgroupLimits
) -> tuple[dict[str, int | float], dict[str, str]]:
    """cgroup v1: the run's group in each controller's hierarchy (`groups`: controller -> its
    folder), with that controller's limit. Returns what is enforced (controller -> limit) and
    what failed (controller -> why)."""
    failed: dict[str, str] = {}
    return _write_limits(groups, limit_files(1, limits), limits, failed), failed


def create_v2_group(
    base: Path, run_id: str, limits: CgroupLimits
) -> tuple[dict[str, int | float], dict[str, str]]:
    """cgroup v2: the run's group base/rootroute/<run_id>, `base` being the grader's own group
    (in the layout tests, any folder laid out like one). Enables memory, pids and cpu for the
    children of `base` and of rootroute/ (cgroup.subtree_control), moving the grader's
    processes to a leaf first if need be, then writes the run's limits. Returns (enforced,
    failed) as create_v1_groups does."""
    try:
        offered = set((base / "cgroup.controllers").read_text().split())
    except OSError as exc:
        return {}, {c: str(exc) for c in CGROUP_CONTROLLERS}
    failed = {
        c: f"{base}/cgroup.controllers offers no {c} controller"
        for c in CGROUP_CONTROLLERS
        if c not in offered
    }
    wanted = [c for c in CGROUP_CONTROLLERS if c in offered]
    run = base / RUN_GROUPS / run_id
    try:
        if not set(wanted) <= _subtree_controllers(base):
            _vacate(base)
        wanted = _enable(base, wanted, failed)
        _make_group(run)  # before rootroute/'s controllers: it is not removed while a run is in it
        wanted = _enable(run.parent, wanted, failed)
    except OSError as exc:
        return {}, {c: failed.get(c, str(exc)) for c in CGROUP_CONTROLLERS}
    enforced = _write_limits({c: run for c in wanted}, limit_files(2, limits), limits, failed)
    return enforced, failed


class RunCgroup:
    """The cgroups that bound all student processes of one run together: memory, processes
    and CPU. On v1 a group in each controller's hierarchy, on v2 one group (see CgroupLayout).
    Constructing one only computes where its groups are: `create` makes them, `kill_all`
    empties and removes them (also from another process that knows the run id)."""

    def __init__(
        self, run_id: str, limits: CgroupLimits | None = None, layout: CgroupLayout | None = None
    ):
        self.run_id = run_id
        self.layout = layout or CgroupLayout.detect()
        self.limits = limits or CgroupLimits.for_this_machine(self.layout)
        self.version = self.layout.version
        self.groups: dict[str, Path] = {}  # controller -> the run's folder that limits it
        if self.version == 1:
            self.groups = {c: d / RUN_GROUPS / run_id for c, d in self.layout.v1.items()}
        elif self.version == 2:
            run = self.layout.v2 / RUN_GROUPS / run_id
            self.groups = {c: run for c in CGROUP_CONTROLLERS if c in self.layout.v2_controllers}
        self.enforced: dict[str, int | float] = {}  # controller -> the limit, after `create`

    @property
    def dirs(self) -> list[Path]:
        return list(dict.fromkeys(self.groups.values()))  # v2: one folder for every controller

    def create(self) -> dict[str, str]:
        """Make the run's groups and write its limits; returns what failed (controller -> why).
        `enforced` holds what holds."""
        failed = {c: "no cgroup hierarchy offers this controller" for c in CGROUP_CONTROLLERS}
        if self.version == 1:
            self.enforced, errors = create_v1_groups(self.groups, self.limits)
        elif self.version == 2:
            self.enforced, errors = create_v2_group(self.layout.v2, self.run_id, self.limits)
        else:
            errors = {}
        failed.update(errors)
        return {c: why for c, why in failed.items() if c not in self.enforced}

    @property
    def procs_files(self) -> list[str]:
        """cgroup.procs of each group the run has (a process joins by writing its pid there)."""
        return [str(folder / "cgroup.procs") for folder in self.dirs if folder.is_dir()]

    def pids(self) -> set[int]:
        found: set[int] = set()
        for name in self.procs_files:
            with contextlib.suppress(OSError):
                found.update(int(line) for line in Path(name).read_text().split())
        return found

    def oom_killed(self) -> bool:
        """Did the memory limit kill a process of the run?"""
        folder = self.groups.get("memory")
        events = "memory.oom_control" if self.version == 1 else "memory.events"
        with contextlib.suppress(OSError, TypeError):  # TypeError: no memory group
            for line in (folder / events).read_text().splitlines():
                if line.startswith("oom_kill "):
                    return int(line.split()[1]) > 0
        return False

    def kill_all(self, timeout_s: float = 5.0) -> None:
        """SIGKILL every process left in the run's groups, then remove the groups."""
        for folder in self.dirs:  # v2 (Linux 5.14+): the kernel kills the whole group at once
            if (folder / "cgroup.kill").exists():
                with contextlib.suppress(OSError):
                    (folder / "cgroup.kill").write_text("1")
        deadline = time.monotonic() + timeout_s
        while (pids := self.pids()) and time.monotonic() < deadline:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)
        for folder in self.dirs:
            for empty in (folder, folder.parent):  # rootroute/ too, once no run is left in it
                with contextlib.suppress(OSError):
                    empty.rmdir()
