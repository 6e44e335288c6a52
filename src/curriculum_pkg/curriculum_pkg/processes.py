"""Start student nodes as separate processes and make sure every one of them ends (ROS-free).

Each node runs in its own session with resource limits, its own log files and the run's ROS
domain. At the end the whole process tree is killed: the grader is made a child subreaper, so
even a grandchild that double-forks or calls setsid is re-parented to us and found.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import yaml

from curriculum_pkg.launchfile import NodeSpec
from curriculum_pkg.submission import Executable

PR_SET_CHILD_SUBREAPER = 36
ADDRESS_SPACE_LIMIT_BYTES = 4 << 30  # rclpy needs ~600 MB of address space; 4 GiB is generous
OPEN_FILES_LIMIT = 1024


def become_subreaper() -> None:
    """Orphaned descendants of this process get re-parented to it instead of to init."""
    # Off Linux there is no prctl: killing by process group still works for well-behaved nodes.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _apply_limits(pid: int, cpu_seconds: int) -> None:
    """Resource limits on a just-started node. Set from outside (prlimit) because preexec_fn is
    unsafe while the grader's executor thread runs; the child is still importing Python then."""
    proc = psutil.Process(pid)
    proc.rlimit(psutil.RLIMIT_AS, (ADDRESS_SPACE_LIMIT_BYTES, ADDRESS_SPACE_LIMIT_BYTES))
    proc.rlimit(psutil.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    proc.rlimit(psutil.RLIMIT_NOFILE, (OPEN_FILES_LIMIT, OPEN_FILES_LIMIT))
    proc.rlimit(psutil.RLIMIT_CORE, (0, 0))


@dataclass
class NodeProcess:
    spec: NodeSpec
    popen: subprocess.Popen
    log_path: Path
    descendants: set[int] = field(default_factory=set)

    def exit_code(self) -> int | None:
        return self.popen.poll()

    def log_tail(self, lines: int = 12) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])


def node_command(spec: NodeSpec, exe: Executable, params_file: Path) -> list[str]:
    launcher = f"import sys; from {exe.module} import {exe.function} as main; sys.exit(main())"
    cmd = [sys.executable, "-u", "-c", launcher, "--ros-args", "-r", f"__node:={spec.name}"]
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
    cpu_seconds: int,
) -> NodeProcess:
    run_dir.mkdir(parents=True, exist_ok=True)
    safe = spec.fqn.strip("/").replace("/", "__") or "node"
    params_file = run_dir / f"{safe}.params.yaml"
    params = {**spec.params, "use_sim_time": True}
    params_file.write_text(yaml.safe_dump({"/**": {"ros__parameters": params}}))
    home = run_dir / "home"
    home.mkdir(exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LD_LIBRARY_PATH": os.environ.get("LD_LIBRARY_PATH", ""),
        "PYTHONPATH": str(prefix),
        "PYTHONUNBUFFERED": "1",
        "HOME": str(home),
        "ROS_LOG_DIR": str(run_dir / "ros_log"),
        "LANG": "C.UTF-8",
        **ros_env,
    }
    log_path = run_dir / f"{safe}.log"
    with log_path.open("wb") as log:
        popen = subprocess.Popen(
            node_command(spec, exe, params_file),
            env=env,
            cwd=home,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    with contextlib.suppress(psutil.NoSuchProcess):
        _apply_limits(popen.pid, cpu_seconds)
    return NodeProcess(spec, popen, log_path)


def track_descendants(procs: list[NodeProcess]) -> None:
    """Remember every descendant seen so far, so that kill_all can reach them later."""
    for proc in procs:
        try:
            children = psutil.Process(proc.popen.pid).children(recursive=True)
        except psutil.Error:
            continue
        proc.descendants.update(c.pid for c in children)


def kill_all(procs: list[NodeProcess], run_id: str, grace_s: float = 3.0) -> None:
    """SIGTERM every node's process group, then SIGKILL whatever is left of the run.

    "The run" is every process we started or saw descend from one, plus any orphan re-parented
    to us (we are a subreaper) whose environment carries this run's ROOTROUTE_RUN marker.
    """
    track_descendants(procs)
    for proc in procs:
        if proc.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.popen.pid, signal.SIGTERM)
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
