"""Start student nodes as separate processes and make sure every one of them ends (ROS-free).

Each node runs in the run's sandbox (curriculum_pkg.sandbox) in its own session, with resource
limits, its own log file and the run's ROS domain. At the end the whole process tree is killed: the grader is made a child subreaper, so
even a grandchild that double-forks or calls setsid is re-parented to us and found.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import yaml

from common_pkg.profile import config_dir
from curriculum_pkg.launchfile import NodeSpec
from curriculum_pkg.sandbox import Limits, Sandbox
from curriculum_pkg.submission import Executable
from sim_pkg.lockstep import ProgramFiles

PR_SET_CHILD_SUBREAPER = 36
GRAPH_DDS_PROFILE = "dds/fastdds_graph_discovery.xml"


def become_subreaper() -> None:
    """Orphaned descendants of this process get re-parented to it instead of to init."""
    # Off Linux there is no prctl: killing by process group still works for well-behaved nodes.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def reap_orphans(timeout_s: float = 1.0) -> None:
    """Collect the exit status of every child that has ended (orphans re-parented to us).

    Only for a process that owns all its children, as the grading worker does at its end:
    anything it does not reap goes on to the next subreaper up as a zombie.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return  # no children left
        if pid == 0:
            time.sleep(0.02)  # children left, none ended yet


@dataclass
class NodeProcess:
    spec: NodeSpec
    popen: subprocess.Popen
    log_path: Path
    log_limit_bytes: int  # its log stops there (RLIMIT_FSIZE): the node is killed
    descendants: set[int] = field(default_factory=set)

    def exit_code(self) -> int | None:
        return self.popen.poll()

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def log_tail(self, lines: int = 12, max_bytes: int = 16384) -> str:
        try:
            with self.log_path.open("rb") as log:  # the end only: a log may be huge
                log.seek(max(0, self.log_size() - max_bytes))
                text = log.read().decode(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])


# numpy's BLAS (OpenBLAS, MKL) and OpenMP start one worker thread per core at import, and sum in
# a different order with another thread count: the same node could compute differently on a 16-core
# school PC than on the 2-core grading machine, and lockstep would watch 15 idle threads more per
# process. One thread each: the same arithmetic on every machine.
SINGLE_THREADED_MATH = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def node_command(
    spec: NodeSpec,
    exe: Executable,
    params_file: Path,
    platform: bool = False,
    clock_topic: str | None = None,
) -> list[str]:
    """The command line of one node. A platform node runs Python isolated (-I: no PYTHONPATH,
    no user site, not even the working folder on sys.path), so only the platform's own code
    and the environment's packages can be imported into it. `clock_topic`: where this process
    takes the simulated time from (lockstep grading gives each process its own); the rule
    comes first, and the first matching rule wins."""
    launcher = f"import sys; from {exe.module} import {exe.function} as main; sys.exit(main())"
    python = [sys.executable, "-I", "-u", "-B"] if platform else [sys.executable, "-u"]
    cmd = [*python, "-c", launcher, "--ros-args"]
    if clock_topic:
        cmd += ["-r", f"/clock:={clock_topic}"]
    cmd += ["-r", f"__node:={spec.name}"]
    if spec.namespace.strip("/"):
        cmd += ["-r", f"__ns:=/{spec.namespace.strip('/')}"]
    cmd += ["--params-file", str(params_file)]
    for src, dst in spec.remaps:
        cmd += ["-r", f"{src}:={dst}"]
    return cmd + list(spec.ros_args)


def start_node(
    spec: NodeSpec,
    exe: Executable,
    prefix: Path,
    run_dir: Path,
    ros_env: dict[str, str],
    sandbox: Sandbox,
    limits: Limits,
    platform: bool = False,
    clock_topic: str | None = None,
) -> NodeProcess:
    """Start one node in the run's sandbox; its output goes to run_dir/<node>.log.

    `platform`: a node of the platform's own packages. It never sees the student's prefix: not on
    its import path, not in its sandbox (see node_command)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    safe = spec.fqn.strip("/").replace("/", "__") or "node"
    params_file = run_dir / f"{safe}.params.yaml"
    params = {**spec.params, "use_sim_time": True}
    params_file.write_text(yaml.safe_dump({"/**": {"ros__parameters": params}}))
    if sandbox.bwrap is not None:  # a private /tmp: home and ROS logs live there
        home = Path("/tmp/home")
    else:
        home = run_dir / ("platform_home" if platform else "home")  # the platform's not shared
        home.mkdir(exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LD_LIBRARY_PATH": os.environ.get("LD_LIBRARY_PATH", ""),
        "PYTHONPATH": "" if platform else str(prefix),
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",  # the prefix is read-only in the sandbox
        "HOME": str(home),
        "ROS_LOG_DIR": str(home / "ros_log"),
        "LANG": "C.UTF-8",
        # quick discovery, so that lockstep grading starts once everyone has matched
        "FASTRTPS_DEFAULT_PROFILES_FILE": str(config_dir() / GRAPH_DDS_PROFILE),
        **SINGLE_THREADED_MATH,
        **ros_env,
    }
    cmd = sandbox.command(
        node_command(spec, exe, params_file, platform, clock_topic),
        env=env,
        limits=limits,
        cwd=str(home),
        readonly=(params_file,) if platform else (prefix, params_file),
    )
    log_path = run_dir / f"{safe}.log"
    with log_path.open("wb") as log:
        popen = subprocess.Popen(
            cmd,
            env=env,
            cwd=run_dir,  # under bubblewrap the node starts in its private home instead
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return NodeProcess(spec, popen, log_path, limits.file_size_bytes)


def track_descendants(procs: list[NodeProcess]) -> None:
    """Remember every descendant seen so far, so that kill_all can reach them later."""
    for proc in procs:
        try:
            children = psutil.Process(proc.popen.pid).children(recursive=True)
        except psutil.Error:
            continue
        proc.descendants.update(c.pid for c in children)


def kill_all(procs: list[NodeProcess], run_id: str, grace_s: float = 3.0) -> None:
    """SIGTERM every node and its descendants, then SIGKILL whatever is left of the run.

    "The run" is every process we started or saw descend from one, plus any orphan re-parented
    to us (we are a subreaper) whose environment carries this run's ROOTROUTE_RUN marker.
    """
    track_descendants(procs)
    sandboxes = ProgramFiles(("bwrap",))
    for proc in procs:
        if proc.popen.poll() is not None:
            continue
        # SIGTERM to the node and what it started, so rclpy can shut down; not to bubblewrap,
        # which would SIGKILL its whole sandbox at once (it ends by itself when its child does).
        # Told by the file it runs: a student process may call itself "bwrap".
        for pid in {proc.popen.pid, *proc.descendants}:
            if not sandboxes.runs(pid):
                with contextlib.suppress(psutil.Error):
                    psutil.Process(pid).terminate()
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.popen.wait(timeout=grace_s)
    pids = {pid for p in procs for pid in p.descendants} | {p.popen.pid for p in procs}
    victims = []
    for child in psutil.Process().children(recursive=True):
        if child.pid in pids or _run_of(child) == run_id:
            victims.append(child)
    for victim in victims:
        with contextlib.suppress(psutil.Error):
            victim.kill()
    psutil.wait_procs(victims, timeout=grace_s)
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.popen.wait(timeout=0.1)


def _run_of(proc: psutil.Process) -> str | None:
    try:
        return proc.environ().get("ROOTROUTE_RUN")
    except psutil.Error:
        return None
