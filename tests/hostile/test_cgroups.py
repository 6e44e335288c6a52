"""Per-run limits on the machines schools have: cgroup v2 as well as v1, CPU as well as memory and
processes, and what `rootroute doctor` says about them.

The cgroup v2 tests are layout tests, not enforcement tests. This machine binds its controllers to
v1 (its cgroup2 mount offers only hugetlb), so they run the v2 code against a temporary folder laid
out like a v2 hierarchy (cgroup.controllers, cgroup.subtree_control, cgroup.procs, cgroup.type) and
assert the files it writes; no kernel reads those files, so they say nothing about whether a
limit would hold. The cgroup v1 tests are enforcement tests: real processes in a run's real
groups, and what the kernel lets them take.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from curriculum_pkg.cgroups import (
    CONCURRENT_RUNS_ENV,
    GRADER_LEAF,
    MEMORY_LIMIT_BYTES,
    PIDS_LIMIT,
    CgroupLayout,
    CgroupLimits,
    RunCgroup,
    cpu_cores_per_run,
    create_v2_group,
)
from curriculum_pkg.cli import main
from curriculum_pkg.ros.doctor import sandbox_checks
from curriculum_pkg.sandbox import Limits, Sandbox, SandboxInfo

V2_CONTROLLERS = "cpuset cpu io memory hugetlb pids rdma misc"  # Debian 12's, delegated


def v2_group(folder: Path, controllers=V2_CONTROLLERS, procs="", root=False) -> Path:
    """A folder laid out like a cgroup v2 group as the kernel shows it (not the root: it has
    cgroup.type), holding the processes `procs`, with no controller enabled for children yet."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cgroup.controllers").write_text(controllers + "\n")
    (folder / "cgroup.subtree_control").write_text("")
    (folder / "cgroup.procs").write_text(procs)
    if not root:
        (folder / "cgroup.type").write_text("domain\n")
    return folder


def enabled_for_children(group: Path) -> set[str]:
    return {c.lstrip("+") for c in (group / "cgroup.subtree_control").read_text().split()}


def files_of(folder: Path) -> dict[str, str]:
    return {f.name: f.read_text().strip() for f in folder.iterdir() if f.is_file()}


# --- cgroup v2: layout tests --------------------------------------------------------------------


def test_on_cgroup_v2_a_run_gets_a_group_of_its_own_with_memory_pids_and_cpu_limits(tmp_path):
    grader = v2_group(tmp_path / "grader.service")
    enforced, failed = create_v2_group(grader, "run1", CgroupLimits(cpu_cores=1.5))
    assert failed == {}
    assert enforced == {"memory": MEMORY_LIMIT_BYTES, "pids": PIDS_LIMIT, "cpu": 1.5}
    # The controllers are enabled for the children of the grader's group and of rootroute/ ...
    assert enabled_for_children(grader) == {"memory", "pids", "cpu"}
    assert enabled_for_children(grader / "rootroute") == {"memory", "pids", "cpu"}
    # ... and the run's group holds its limits: no swap, 1.5 cores' quota, the default weight.
    assert files_of(grader / "rootroute/run1") == {
        "memory.max": str(6 << 30),
        "memory.swap.max": "0",
        "pids.max": "512",
        "cpu.max": "150000 100000",
        "cpu.weight": "100",
    }
    assert not (grader / GRADER_LEAF).exists()  # no process to move out of the way


def test_on_cgroup_v2_the_graders_processes_move_to_a_leaf_before_controllers_are_enabled(
    tmp_path,
):
    # "No internal processes": a group that enables controllers for its children may not hold
    # processes itself, so the grader (and its batch, its shell) leave for a leaf first.
    grader = v2_group(tmp_path / "grader.service", procs="4242\n4343\n")
    _enforced, failed = create_v2_group(grader, "run1", CgroupLimits())
    assert failed == {}
    assert (grader / GRADER_LEAF / "cgroup.procs").read_text().split() == ["4242", "4343"]
    assert enabled_for_children(grader) == {"memory", "pids", "cpu"}


def test_the_root_v2_group_keeps_its_processes(tmp_path):
    root = v2_group(tmp_path / "cgroup", procs="1\n2\n", root=True)  # exempt from the rule
    create_v2_group(root, "run1", CgroupLimits())
    assert not (root / GRADER_LEAF).exists()
    assert (root / "rootroute/run1/pids.max").read_text() == "512"


def test_on_cgroup_v2_a_controller_not_delegated_to_the_grader_is_reported_missing(tmp_path):
    grader = v2_group(tmp_path / "grader.service", controllers="cpu memory")
    enforced, failed = create_v2_group(grader, "run1", CgroupLimits(cpu_cores=2.0))
    assert set(enforced) == {"memory", "cpu"}
    assert set(failed) == {"pids"} and "offers no pids controller" in failed["pids"]
    assert not (grader / "rootroute/run1/pids.max").exists()


def test_a_v2_only_machine_is_detected_and_every_process_of_a_run_joins_its_one_group(tmp_path):
    # /proc/self/mountinfo and /proc/self/cgroup of a grader in a systemd service on a v2-only
    # machine, after an earlier run moved it into its leaf. The mount point has a space in it:
    # mountinfo writes that as \040.
    mount = tmp_path / "sys fs cgroup"
    grader = v2_group(mount / "system.slice/rootroute.service")
    v2_group(grader / GRADER_LEAF)
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(
        "24 30 0:22 / /proc rw,nosuid - proc proc rw\n"
        f"25 30 0:23 / {str(mount).replace(' ', chr(92) + '040')} rw,nosuid,nodev shared:4 - "
        "cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n"
    )
    own = tmp_path / "cgroup"
    own.write_text(f"0::/system.slice/rootroute.service/{GRADER_LEAF}\n")
    layout = CgroupLayout.detect(mountinfo, own)
    assert layout.version == 2 and layout.v2 == grader and layout.v1 == {}
    assert "cgroup v2" in layout.describe()[0]

    group = RunCgroup("run7", CgroupLimits(cpu_cores=0.5), layout)
    assert group.create() == {}
    assert group.enforced == {"memory": MEMORY_LIMIT_BYTES, "pids": PIDS_LIMIT, "cpu": 0.5}
    run = grader / "rootroute/run7"
    assert group.procs_files == [str(run / "cgroup.procs")]
    assert (run / "cpu.max").read_text() == "50000 100000"
    # Sandbox.command's prologue writes each process's pid into every file of that list.
    cmd = Sandbox(SandboxInfo(), cgroup=group).command(
        ["/bin/true"], env={}, limits=Limits(cpu_s=5)
    )
    assert cmd[4:6] == ["1", str(run / "cgroup.procs")]


def test_a_hybrid_machine_with_cpu_and_cpuacct_mounted_together_is_v1(tmp_path):
    # Ubuntu 20.04's systemd hybrid mode: v1 hierarchies, cpu with cpuacct, an empty cgroup2.
    base = tmp_path / "cgroup"
    lines, memberships = [], []
    for n, name in enumerate(("memory", "pids", "cpu,cpuacct")):
        lines.append(f"{40 + n} 31 0:{30 + n} / {base / name} rw - cgroup cgroup rw,{name}")
        memberships.append(f"{n + 2}:{name}:/user.slice/grader")
    lines.append(f"50 31 0:50 / {base / 'unified'} rw - cgroup2 cgroup2 rw")
    memberships.append("0::/user.slice/grader")
    v2_group(base / "unified/user.slice/grader", controllers="")
    (tmp_path / "mountinfo").write_text("\n".join(lines) + "\n")
    (tmp_path / "own").write_text("\n".join(memberships) + "\n")

    layout = CgroupLayout.detect(tmp_path / "mountinfo", tmp_path / "own")
    assert layout.version == 1
    assert layout.v1 == {
        "memory": base / "memory/user.slice/grader",
        "pids": base / "pids/user.slice/grader",
        "cpu": base / "cpu,cpuacct/user.slice/grader",
    }
    en, ko = layout.describe()
    assert "hybrid" in en and "하이브리드" in ko


def test_a_run_may_use_its_fair_share_of_the_machines_cpus():
    assert cpu_cores_per_run(1, cpus=8) == 8.0  # graded alone: the whole machine
    assert cpu_cores_per_run(4, cpus=8) == 2.0  # `batch -j 4`: a quarter each
    assert cpu_cores_per_run(3, cpus=2) == 0.66  # rounded down
    assert CgroupLimits(cpu_cores=0.004).cpu_quota_us == 1000  # the kernel's smallest quota


def test_a_batch_tells_its_runs_how_many_share_the_machine(monkeypatch):
    monkeypatch.setenv(CONCURRENT_RUNS_ENV, "2")
    cpus = len(os.sched_getaffinity(0))
    assert CgroupLimits.for_this_machine(CgroupLayout()).cpu_cores == cpu_cores_per_run(2, cpus)


def test_a_graders_own_cpu_quota_bounds_its_runs_quotas(tmp_path, monkeypatch):
    # A container given 1.5 CPUs (--cpus=1.5) of a bigger machine: its group's quota, not the
    # CPUs it may run on, is what its runs share (and v1 refuses a child quota above it).
    monkeypatch.setenv(CONCURRENT_RUNS_ENV, "1")
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(64)))
    container = v2_group(tmp_path / "docker-1234.scope")
    (container / "cpu.max").write_text("150000 100000\n")
    layout = CgroupLayout(v2=container, v2_controllers=frozenset({"memory", "pids", "cpu"}))
    assert layout.cpu_quota_cores() == 1.5
    assert CgroupLimits.for_this_machine(layout).cpu_cores == 1.5
    v1_cpu = tmp_path / "v1/cpu/docker/1234"
    v1_cpu.mkdir(parents=True)
    for folder, quota in ((v1_cpu, "-1"), (v1_cpu.parent, "50000")):  # the parent's counts too
        (folder / "cpu.cfs_quota_us").write_text(quota)
        (folder / "cpu.cfs_period_us").write_text("100000")
    assert CgroupLayout(v1={"cpu": v1_cpu}).cpu_quota_cores() == 0.5


# --- cgroup v1: enforcement tests on this machine ------------------------------------------------


def v1_limits_here() -> bool:
    probe = RunCgroup(f"probe-{os.getpid()}")
    try:
        return probe.version == 1 and probe.create() == {}
    finally:
        probe.kill_all(0)


needs_v1 = pytest.mark.skipif(
    not v1_limits_here(), reason="needs writable cgroup v1 memory, pids and cpu controllers"
)

# Forks `n` children that spin for `seconds`, then prints the CPU seconds they used and the wall
# time it took.
CPU_HOG = """
import os, sys, time
n, seconds = int(sys.argv[1]), float(sys.argv[2])
start = time.monotonic()
for _ in range(n):
    if os.fork() == 0:
        while time.monotonic() - start < seconds:
            pass
        os._exit(0)
for _ in range(n):
    os.wait()
times = os.times()
print(times.children_user + times.children_system, time.monotonic() - start)
"""

# Takes memory 16 MiB at a time (written, so really resident), saying how far it got.
MEMORY_HOG = """
chunks = []
for i in range(1, 33):
    chunks.append(b"x" * (16 << 20))
    print(i * 16, flush=True)
"""


def run_in(group: RunCgroup, script: str, *args: str) -> subprocess.CompletedProcess:
    """A python script started as Sandbox.command starts a student process: it joins the run's
    groups before it runs (no bubblewrap needed for that)."""
    cmd = Sandbox(SandboxInfo(), cgroup=group).command(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        env={"PATH": "/usr/bin:/bin"},
        limits=Limits(cpu_s=60),
    )
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@needs_v1
def test_every_process_of_a_run_joins_its_memory_pids_and_cpu_groups():
    group = RunCgroup(f"test-join-{os.getpid()}")
    try:
        assert group.create() == {}
        run = run_in(group, "print(open('/proc/self/cgroup').read())")
    finally:
        group.kill_all()
    assert run.returncode == 0, run.stderr
    joined = {}  # controller -> the group this process is in ("4:memory:/path")
    for line in run.stdout.split():
        _hierarchy, names, path = line.split(":", 2)
        joined.update(dict.fromkeys(names.split(","), path))
    for controller in ("memory", "pids", "cpu"):
        assert joined[controller].endswith(f"/rootroute/{group.run_id}"), joined


@needs_v1
def test_on_cgroup_v1_a_cpu_hog_gets_no_more_than_its_runs_cpu_quota():
    # Two processes spinning for 2 s would take up to 2 cores; the run's quota is a tenth of one.
    quota_cores = 0.1
    group = RunCgroup(f"test-cpu-{os.getpid()}", CgroupLimits(cpu_cores=quota_cores))
    try:
        assert group.create() == {}
        assert (group.groups["cpu"] / "cpu.cfs_quota_us").read_text().strip() == "10000"
        run = run_in(group, CPU_HOG, "2", "2.0")
        stat = dict(
            line.split() for line in (group.groups["cpu"] / "cpu.stat").read_text().splitlines()
        )
    finally:
        group.kill_all()
    assert run.returncode == 0, run.stderr
    used_cpu_s, wall_s = map(float, run.stdout.split())
    print(f"CPU hog: {used_cpu_s:.3f} CPU s in {wall_s:.2f} s = {used_cpu_s / wall_s:.3f} cores")
    assert used_cpu_s / wall_s <= quota_cores * 1.25 + 0.02
    assert int(stat["nr_throttled"]) > 0  # the kernel held it back, not a quiet machine


@needs_v1
def test_on_cgroup_v1_a_memory_hog_is_killed_at_the_runs_memory_limit():
    group = RunCgroup(f"test-mem-{os.getpid()}", CgroupLimits(memory_bytes=128 << 20))
    try:
        assert group.create() == {}
        run = run_in(group, MEMORY_HOG)
        killed = group.oom_killed()
    finally:
        group.kill_all()
    reached_mib = int(run.stdout.split()[-1]) if run.stdout.split() else 0
    assert run.returncode == -9, (run.returncode, run.stderr)  # SIGKILL from the OOM killer
    assert killed
    print(f"memory hog: killed after {reached_mib} MiB of 512 (limit 128 MiB)")
    assert reached_mib < 128  # stopped at the limit, long before the 512 MiB it wanted


# --- rootroute doctor --------------------------------------------------------------------------


def without_bubblewrap(tmp_path: Path, monkeypatch) -> None:
    """This machine as if bubblewrap were not installed: PATH holds every other program."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for folder in os.environ["PATH"].split(os.pathsep):
        for program in Path(folder).glob("*") if Path(folder).is_dir() else ():
            if program.name != "bwrap" and not (bin_dir / program.name).exists():
                (bin_dir / program.name).symlink_to(program)
    monkeypatch.setenv("PATH", str(bin_dir))


@needs_v1
def test_doctor_reports_the_cgroup_version_and_each_limit_in_both_languages(capsys):
    main(["doctor"])  # (its rclpy, MuJoCo and DDS checks are not this test's business)
    out = capsys.readouterr().out
    lines = {
        line.split("]", 1)[1].split("  ")[0].strip(): line
        for line in out.splitlines()
        if "]" in line
    }
    version = lines["cgroup 버전 / cgroup version"]
    assert "[  ok]" in version and "cgroup v1" in version
    if CgroupLayout.detect().v2 is not None:  # this machine: a hybrid
        assert "하이브리드" in version and "hybrid" in version
    assert "채점마다 6 GiB / 6 GiB per run" in lines["메모리 제한 / memory limit"]
    assert "채점마다 512개 / 512 per run" in lines["프로세스 수 제한 / process limit"]
    cpu = lines["CPU 제한 / CPU limit"]
    assert "[  ok]" in cpu and "코어" in cpu and "cores per run" in cpu


def test_doctor_says_what_is_missing_and_why_without_bubblewrap(tmp_path, monkeypatch):
    without_bubblewrap(tmp_path, monkeypatch)
    checks = list(sandbox_checks())
    bubblewrap = next(c for c in checks if c.what == "샌드박스: bubblewrap / sandbox: bubblewrap")
    assert not bubblewrap.ok
    why = [c.detail for c in checks if "이유 / why" in c.what]
    assert any(
        "bubblewrap(bwrap)이 설치되어 있지 않습니다" in d and "not installed" in d for d in why
    )
