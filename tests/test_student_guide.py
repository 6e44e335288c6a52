"""STUDENT_GUIDE.md, followed as a student would: every command of its ```bash blocks, in order.

How a line of the guide becomes a run here:

1. Both languages hold the same commands. The Korean part (first) and the English part (from the
   line `# Root&Route student guide`) have the same steps (`## ` sections), each with the same
   commands in the same order; comments after `#` may differ (each is in its part's language). The
   ```python block of "first node" is the same code in both, comments aside.
2. The student's machine is a temporary HOME. `~/rootroute` is the checkout: a folder of links to
   this repository's files with a `runs/` of its own (the stand-in for `git clone`). One shell state
   (working folder, environment) carries from command to command: `cd` moves it, and `source` runs
   in bash and keeps the environment it leaves. Until `source .venv/bin/activate` the venv is not on
   the PATH, so the guide's own activation is what brings `rootroute` (this repository's
   `.venv/bin/rootroute`). As on a laptop there is no ROS_DISTRO, AMENT_PREFIX_PATH or grading
   secret. Each step runs on a ROS_DOMAIN_ID of its own from `lease_domain()` (localhost only), not
   the student's default 0, which would meet other runs on this machine.
3. Placeholders `<...>` are filled from what earlier commands printed: `<run>` is the result folder
   `rootroute grade` named. The keyboard line must be the line `rootroute dev` printed for "another
   terminal" (the domain number aside), and that printed line is what runs.
4. Long-running commands are started, checked for their first meaningful output, and stopped as a
   student stops them:
   - `rootroute sim`: the live view's URL is printed and serves the page, and a progress line
     comes; a Foxglove port (the guide's 8766) is replaced by a free one, which must then listen.
     `q` + Enter; exit code 0.
   - `rootroute dev`: the `teleop_keyboard` line, the live view's URL (serving the page) and the
     first "score so far" line, with no failed graph check. It keeps running while the next lines
     need it (the second terminal of the keyboard step: `cd`, `source`, `teleop_keyboard`) and is
     stopped before any other line or at the end of its step: `q` + Enter, exit code 0. On the package the guide edited, the
     robot must move (/odom), and the first time `r` + Enter must reinstall and restart it. With
     `--distro humble`, the graph's /cmd_vel and /cmd_vel_autonomy must be Twist.
   - `teleop_keyboard`: driven in a pseudo-terminal (pexpect, as tests/test_dev_loop.py does): `w`
     ten times, and the robot's /odom must move 0.15 m; Ctrl-C ends it.
   - `rootroute view`: the replay's URL is printed and serves the episode; Ctrl-C (SIGINT), exit 0.
5. The guide's `control()` (its ```python block) replaces the starter's in the package the guide
   copied (`cp -r .../starter DEST`), where the block stands in the guide: before the commands after
   it. `rootroute grade` of that package must earn the graph points with no located error, and its
   robot must have moved.
6. Lines that cannot run here are listed below with what is checked instead: STAND_INS (done
   another way: e.g. `source install/setup.bash` sources colcon's install/setup.sh, since this venv's
   colcon has no bash extension) and CHECKED_STATICALLY (not run at all: `source /opt/ros/...` and
   `ros2 launch`). `colcon build --merge-install` does run, in the temporary workspace the `scp`
   stand-in filled. Every other line runs as written.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import queue
import re
import shlex
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import pexpect
import psutil
import pytest
import yaml

from sim_pkg.domain import lease_domain

REPO = Path(__file__).resolve().parents[1]
GUIDE = REPO / "STUDENT_GUIDE.md"
ENGLISH_PART = "# Root&Route student guide"
VENV_BIN = REPO / ".venv/bin"

# Lines done another way here, each with what stands in for it.
STAND_INS = {
    # Needs root and changes the system: the tools it installs must be here already.
    "sudo apt install git make python3-venv": "git, make and Python's venv module are present",
    # The address is the teacher's: ~/rootroute is made as links to this checkout.
    "git clone <repository-url> ~/rootroute": "~/rootroute links to this checkout",
    # Already done: it made this repository's .venv (its stamp must be there).
    "make setup": ".venv/.installed exists",
    # No robot: the folder is copied into the local ~/ros2_ws/src/ instead.
    "scp -r my_team/station_runner <user>@<robot>:~/ros2_ws/src/": "copied to ~/ros2_ws/src/",
    # This venv's colcon has no colcon-bash (a ROS install has it), so colcon writes no setup.bash
    # here: its POSIX twin install/setup.sh, which sets the same variables, is sourced instead.
    "source install/setup.bash": "source install/setup.sh",
}
# Lines that are not run at all (they need a full ROS 2 install and the robot), each with what is
# checked instead.
CHECKED_STATICALLY = {
    # No /opt/ros here. On the robot it sets ROS_DISTRO, from which the navigator picks its type.
    "source /opt/ros/humble/setup.bash": "the navigator reads ROS_DISTRO",
    # No launch or ros2cli here: the launch file must be in the built package's share folder,
    # parse as YAML, and name executables that were installed (or platform nodes).
    "ros2 launch station_runner plating_stations.launch.yaml": "launch file installed and valid",
}
# The guide's lines that run while `rootroute dev` keeps running: its second terminal.
SECOND_TERMINAL = re.compile(r"^(cd |source |(\w+=\S+ )*teleop_keyboard$)")
STARTER_CONTROL = "    def control(self) -> None:"
STARTER_AFTER_CONTROL = "    def publish("
CORE_CHECKS = ("rclpy", "RMW", "MuJoCo", "MuJoCo GL backend", "DDS round trip")


# --- the guide ----------------------------------------------------------------------------------


@dataclass
class Section:
    title: str
    items: list[tuple[str, str]] = field(default_factory=list)  # ("bash", line) | ("python", code)

    def commands(self) -> list[str]:
        return [text for kind, text in self.items if kind == "bash"]


def strip_comment(line: str) -> str:
    return re.sub(r"(^|\s)#.*$", "", line).strip()


def parse_part(text: str) -> list[Section]:
    """The `## ` sections of one language's part, with their bash lines and python blocks."""
    sections = [Section("(top)")]
    fence, body = None, []
    for line in text.splitlines():
        if fence is None:
            opening = re.match(r"^```(\w*)\s*$", line)
            if opening:
                fence, body = opening.group(1), []
            elif line.startswith("## "):
                sections.append(Section(line[3:].strip()))
        elif line.startswith("```"):
            if fence == "bash":
                sections[-1].items += [("bash", c) for c in map(strip_comment, body) if c]
            elif fence == "python":
                sections[-1].items.append(("python", "\n".join(body)))
            fence = None
        else:
            body.append(line)
    assert fence is None, "an unclosed ``` block"
    return [s for s in sections if s.items]


def guide_parts() -> tuple[list[Section], list[Section]]:
    text = GUIDE.read_text(encoding="utf-8")
    assert ENGLISH_PART in text, f"no line {ENGLISH_PART!r}: where does the English part start?"
    korean, english = text.split("\n" + ENGLISH_PART, 1)
    return parse_part(korean), parse_part(english)


def code_only(code: str) -> list[str]:
    return [re.sub(r"\s+#.*$", "", line).rstrip() for line in code.splitlines()]


# --- processes ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=15) as response:
        assert response.status == 200, url
        return response.read()


def kill_tree(pid: int) -> None:
    """Kill a process this test started and every process under it, by their ids."""
    try:
        parent = psutil.Process(pid)
        procs = [*parent.children(recursive=True), parent]
    except psutil.NoSuchProcess:
        return
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()
    psutil.wait_procs(procs, timeout=10)


class Running:
    """A long-running command (`bash -c 'exec LINE'`): stdin to type into, output line by line."""

    def __init__(self, line: str, shell: Shell):
        self.line = line
        self.proc = subprocess.Popen(
            ["bash", "-c", "exec " + line],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=shell.env,
            cwd=shell.cwd,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))

    def mark(self) -> int:
        return len(self.lines)

    def wait_for(self, pattern: str, timeout_s: float = 90.0, since: int = 0) -> re.Match:
        """The first line from `since` on that matches `pattern` (a regex), waiting for it."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout_s
        checked = since
        while True:
            for i in range(checked, len(self.lines)):
                found = regex.search(self.lines[i])
                if found:
                    return found
            checked = max(checked, len(self.lines))
            if time.monotonic() > deadline:
                break
            try:
                self.lines.append(self._queue.get(timeout=0.5))
            except queue.Empty:
                if self.proc.poll() is not None and self._queue.empty():
                    break
        raise AssertionError(
            f"`{self.line}`: {pattern!r} never came (exit code {self.proc.poll()}); output:\n"
            + "\n".join(self.lines[-60:])
        )

    def type(self, text: str) -> None:
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def finish(self, timeout_s: float = 60.0) -> int:
        code = self.proc.wait(timeout=timeout_s)
        while not self._queue.empty():
            self.lines.append(self._queue.get())
        return code

    def close(self) -> None:
        if self.proc.poll() is None:
            kill_tree(self.proc.pid)


@contextlib.contextmanager
def ros_listener(domain_id: int):
    """An rclpy node in this process on `domain_id`, and `spin_until(condition, timeout_s)`."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor

    context = rclpy.Context()
    rclpy.init(context=context, domain_id=domain_id)
    node = rclpy.create_node("student_guide_test", context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)

    def spin_until(condition, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not condition():
            executor.spin_once(timeout_sec=0.05)
        return bool(condition())

    try:
        yield node, spin_until
    finally:
        executor.shutdown()
        node.destroy_node()
        rclpy.shutdown(context=context)


@contextlib.contextmanager
def odometry(domain_id: int):
    """(positions, spin_until): the robot's /odom positions as they come."""
    from nav_msgs.msg import Odometry

    with ros_listener(domain_id) as (node, spin_until):
        positions: list[tuple[float, float]] = []
        node.create_subscription(
            Odometry,
            "/odom",
            lambda m: positions.append((m.pose.pose.position.x, m.pose.pose.position.y)),
            10,
        )
        yield positions, spin_until


# --- the student --------------------------------------------------------------------------------


@dataclass
class Shell:
    cwd: Path
    env: dict[str, str]


class Student:
    """Runs the guide's lines in order, in one shell state, as described in the module docstring."""

    def __init__(self, home: Path):
        self.home = home
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("VIRTUAL_ENV", "ROS_DISTRO", "AMENT_PREFIX_PATH", "COLCON_PREFIX_PATH")
            and not k.startswith("ROOTROUTE_")
            and not k.startswith("PYTEST")
        }
        env["PATH"] = os.pathsep.join(
            p for p in env.get("PATH", "").split(os.pathsep) if Path(p).resolve() != VENV_BIN
        )
        env.update(HOME=str(home), PYTHONUNBUFFERED="1", ROS_LOG_DIR=str(home / "ros_log"))
        env.setdefault("MUJOCO_GL", "egl")
        env.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
        self.shell = Shell(home, env)
        self.domain_id = 0
        self.placeholders: dict[str, str] = {}
        self.dev: Running | None = None
        self.teleop_line = ""
        self.copied_starter: Path | None = None
        self.edited: Path | None = None
        self.restart_checked = False
        self.started: list[Running] = []
        self.timings: list[tuple[str, float]] = []
        self.transcript: list[str] = []

    # Every line goes through here.
    def run(self, line: str) -> None:
        t0 = time.monotonic()
        if self.dev is not None and not SECOND_TERMINAL.match(line):
            self.stop_dev()
        self.transcript.append(f"$ {line}")
        if line in STAND_INS:
            self.stand_in(line)
        elif line in CHECKED_STATICALLY:
            self.check_statically(line)
        else:
            line = self.fill_placeholders(line)
            words = shlex.split(line)
            if words[0] == "cd":
                self.cd(words[1])
            elif words[0] == "source":
                self.source(line)
            elif words[:2] == ["rootroute", "sim"]:
                self.sim(line)
            elif words[:2] == ["rootroute", "dev"]:
                self.start_dev(line)
            elif words[:2] == ["rootroute", "view"]:
                self.view(line)
            elif words[:2] == ["rootroute", "grade"]:
                self.grade(line)
            elif words[:2] == ["rootroute", "doctor"]:
                self.doctor(line)
            elif words[-1] == "teleop_keyboard":
                self.teleop(line)
            elif words[:3] == ["colcon", "build", "--merge-install"]:
                self.colcon(line)
            else:
                self.short(line)
        self.timings.append((line, time.monotonic() - t0))

    def fill_placeholders(self, line: str) -> str:
        def fill(match: re.Match) -> str:
            name = match.group(1)
            assert name in self.placeholders, f"`{line}`: no earlier command gave <{name}>"
            return self.placeholders[name]

        return re.sub(r"<([^<>\s]+)>", fill, line)

    def on_new_step(self, domain_id: int) -> None:
        self.domain_id = domain_id
        self.shell.env["ROS_DOMAIN_ID"] = str(domain_id)

    # --- lines done another way, or checked without running ---

    def stand_in(self, line: str) -> None:
        if line.startswith("sudo apt install"):
            assert shutil.which("git") and shutil.which("make"), "git and make"
            import venv  # noqa: F401  (python3-venv)
        elif line.startswith("git clone"):
            checkout = self.home / "rootroute"
            checkout.mkdir()
            for entry in REPO.iterdir():
                if entry.name not in ("runs", ".git", ".pytest_cache", ".ruff_cache"):
                    (checkout / entry.name).symlink_to(entry)
        elif line == "make setup":
            assert (REPO / ".venv/.installed").is_file(), "make setup has not run here"
        elif line == "source install/setup.bash":
            assert not (self.shell.cwd / "install/setup.bash").exists(), "it runs here now"
            self.source("source install/setup.sh")
        elif line.startswith("scp "):
            _, _, folder, target = line.split()
            source = self.shell.cwd / folder
            dest = self.home / target.split(":~/", 1)[1]  # the robot's home is this HOME
            dest.mkdir(parents=True)
            shutil.copytree(source, dest / source.name)
        else:  # pragma: no cover - a new stand-in needs its own branch
            raise AssertionError(f"no stand-in written for `{line}`")

    def check_statically(self, line: str) -> None:
        if line.startswith("source /opt/ros/"):
            assert self.edited is not None
            node = (self.edited / "station_runner/station_runner/navigator_node.py").read_text()
            assert 'os.environ.get("ROS_DISTRO")' in node
        elif line.startswith("ros2 launch "):
            _, _, pkg, launch_name = line.split()
            install = self.shell.cwd / "install"
            assert (install / "share" / pkg / "package.xml").is_file(), f"{pkg} is not installed"
            found = list((install / "share" / pkg).rglob(launch_name))
            assert len(found) == 1, f"ros2 launch finds {launch_name} in share/{pkg}: {found}"
            launch = yaml.safe_load(found[0].read_text())
            nodes = [entry["node"] for entry in launch["launch"] if "node" in entry]
            assert nodes, f"{launch_name} starts no node"
            for node in nodes:
                if node["pkg"] == pkg:
                    assert (install / "lib" / pkg / node["exec"]).is_file(), node
                else:  # a platform node: on the robot, from the Root&Route packages
                    scripts = metadata.distribution(node["pkg"]).entry_points
                    assert node["exec"] in {ep.name for ep in scripts}, node
            copied = self.home / "ros2_ws/src" / pkg / "launch" / launch_name
            assert copied.read_text() == found[0].read_text()
        else:  # pragma: no cover
            raise AssertionError(f"no static check written for `{line}`")

    # --- short commands ---

    def cd(self, target: str) -> None:
        path = Path(target.replace("~", str(self.home), 1) if target.startswith("~") else target)
        path = path if path.is_absolute() else self.shell.cwd / path
        assert path.is_dir(), f"cd {target}: no such folder"
        self.shell.cwd = path

    def source(self, line: str) -> None:
        done = subprocess.run(
            ["bash", "-c", f"{line} >&2 && env -0"],
            cwd=self.shell.cwd,
            env=self.shell.env,
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, f"`{line}`: {done.stderr.decode(errors='replace')[-2000:]}"
        self.shell.env = dict(
            item.split("=", 1) for item in done.stdout.decode().split("\0") if "=" in item
        )
        if line.endswith(".venv/bin/activate"):
            rootroute = shutil.which("rootroute", path=self.shell.env["PATH"])
            assert rootroute and Path(rootroute).parent.resolve() == VENV_BIN.resolve(), rootroute
        if line.endswith(("install/setup.bash", "install/setup.sh")):
            install = str(self.shell.cwd / "install")
            assert install in self.shell.env.get("AMENT_PREFIX_PATH", "").split(os.pathsep)

    def short(self, line: str, timeout_s: float = 120.0) -> str:
        done = subprocess.run(
            ["bash", "-c", line],
            cwd=self.shell.cwd,
            env=self.shell.env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout_s,
            check=False,
        )
        output = done.stdout + done.stderr
        self.transcript.append(output)
        assert done.returncode == 0, f"`{line}` exited with {done.returncode}:\n{output[-4000:]}"
        words = shlex.split(line)
        if words[:2] == ["cp", "-r"] and words[2].endswith("/starter"):
            self.copied_starter = self.shell.cwd / words[3]
        if words[0] == "find":
            for name in ("package.xml", "setup.py", "navigator_node.py", ".launch.yaml"):
                assert name in output, f"`{line}` does not show {name}"
        if words[0] == "cat" and line.endswith(".launch.yaml"):
            assert "to: /cmd_vel_autonomy" in output
        return output

    def doctor(self, line: str) -> None:
        output = self.short(line + " || true")  # FAIL lines are allowed, but only for the sandbox
        for what in CORE_CHECKS:
            assert re.search(rf"\[  ok\] {re.escape(what)}\s", output), f"{what}:\n{output}"
        for fail in re.findall(r"\[FAIL\] (.*)", output):
            assert not fail.startswith(CORE_CHECKS), output

    def colcon(self, line: str) -> None:
        output = self.short(line, timeout_s=180)
        assert "Finished <<< station_runner" in output, output[-3000:]
        assert (self.shell.cwd / "install/lib/station_runner/navigator").is_file()

    def grade(self, line: str) -> None:
        output = self.short(line, timeout_s=300)
        assert "오류 / error" not in output, output[-4000:]  # no located error
        graph = re.search(r"^graph\s+20%\s+([\d.]+)$", output, re.MULTILINE)
        assert graph and float(graph.group(1)) == 20.0, output[-3000:]
        reports = re.search(r"보고서 / reports: runs/(\S+)/report\.md", output)
        assert reports, output[-3000:]
        self.placeholders["run"] = reports.group(1)
        run = self.shell.cwd / "runs" / reports.group(1)
        result = json.loads((run / "result.json").read_text())
        assert result["error"] is None
        assert not result["hidden"]["graded"]  # no secret: the visible variant only
        # One episode per scenario of the assignment, each its visible variant.
        episodes = {ep["scenario"]: ep for ep in result["episodes"]}
        assert len(episodes) == len(result["episodes"]) and "banwol_plating_01" in episodes
        assert all(ep["variant"] == 0 and not ep["hidden"] for ep in episodes.values())
        for ep in episodes.values():
            trajectory = ep["metrics"]["trajectory_t_x_y"]
            driven = sum(math.dist(a[1:], b[1:]) for a, b in itertools.pairwise(trajectory))
            assert driven > 0.3, f"the guide's node drove {driven:.2f} m in {ep['scenario']}"
        report = (run / "report.md").read_text()
        assert "rootroute view recordings/banwol_plating_01_v0.mcap" in report

    # --- long-running commands ---

    def start(self, line: str) -> Running:
        running = Running(line, self.shell)
        self.started.append(running)
        return running

    def sim(self, line: str) -> None:
        foxglove = re.search(r"--foxglove-port \d+", line)
        port = free_port()
        if foxglove:
            line = line.replace(foxglove.group(0), f"--foxglove-port {port}")
        sim = self.start(line)
        url = sim.wait_for(r"live view: (http://localhost:\d+/)", 120).group(1)
        assert b"<html" in http_get(url).lower()
        if foxglove:
            sim.wait_for(rf"Foxglove WebSocket server on ws://localhost:{port}\b")
            socket.create_connection(("127.0.0.1", port), timeout=10).close()
        sim.wait_for(r"작업 / tasks 0/\d")
        sim.type("q")
        assert sim.finish() == 0, "\n".join(sim.lines[-30:])
        self.transcript += sim.lines

    def start_dev(self, line: str) -> None:
        dev = self.start(line)
        self.teleop_line = dev.wait_for(r"another terminal\): (.*teleop_keyboard)", 60).group(1)
        url = dev.wait_for(r"live view: (http://localhost:\d+/)", 180).group(1)
        assert b"<html" in http_get(url).lower()
        dev.wait_for(r"score so far \d", 120)
        failed = [x for x in dev.lines if "그래프 / graph:" in x or "오류 / error" in x]
        assert not failed, "\n".join(dev.lines[-40:])
        self.dev = dev
        submission = self.shell.cwd / shlex.split(line)[2]
        if "--distro humble" in line:
            assert "ROS_LOCALHOST_ONLY=1" in self.teleop_line, self.teleop_line
            with ros_listener(self.domain_id) as (node, spin_until):

                def types() -> dict[str, list[str]]:
                    return dict(node.get_topic_names_and_types())

                wanted = ("/cmd_vel", "/cmd_vel_autonomy")
                assert spin_until(lambda: all(t in types() for t in wanted), 30), types()
                for topic in wanted:
                    assert types()[topic] == ["geometry_msgs/msg/Twist"], (topic, types())
        if self.edited is not None and submission.resolve() == self.edited.resolve():
            with odometry(self.domain_id) as (positions, spin_until):
                assert spin_until(lambda: positions, 30), "no /odom"
                start = positions[0]
                moved = spin_until(lambda: math.dist(start, positions[-1]) > 0.1, 30)
                assert moved, f"the guide's node does not drive: {positions[-3:]}"
            if not self.restart_checked:  # r + Enter: reinstalled, started again
                mark = dev.mark()
                dev.type("r")
                dev.wait_for("다시 시작 / restarting", 60, since=mark)
                dev.wait_for("설치 / install", 60, since=mark)
                dev.wait_for(r"score so far \d", 120, since=mark)
                self.restart_checked = True

    def stop_dev(self) -> None:
        dev, self.dev = self.dev, None
        dev.type("q")
        assert dev.finish() == 0, "\n".join(dev.lines[-30:])
        self.transcript += dev.lines

    def teleop(self, line: str) -> None:
        assert self.dev is not None, f"`{line}` needs `rootroute dev` running"

        def shape(text: str) -> str:
            return re.sub(r"ROS_DOMAIN_ID=\d+", "ROS_DOMAIN_ID=N", text)

        assert shape(line) == shape(self.teleop_line), (line, self.teleop_line)
        with odometry(self.domain_id) as (positions, spin_until):
            assert spin_until(lambda: positions, 30), "no /odom"
            start = positions[-1]
            keyboard = pexpect.spawn(
                "bash",
                ["-c", self.teleop_line],  # `exec VAR=1 cmd` would not do: bash execs it anyway
                env=self.shell.env,
                cwd=str(self.shell.cwd),
                encoding="utf-8",
                timeout=30,
            )
            try:
                keyboard.expect("CTRL-C")
                for _ in range(10):  # 0.10 m/s ahead
                    keyboard.send("w")
                keyboard.expect(r"linear \+0\.10 m/s")
                moved = spin_until(lambda: math.dist(start, positions[-1]) > 0.15, 40)
                assert moved, positions[-5:]
                keyboard.sendcontrol("c")
                keyboard.expect(pexpect.EOF)
            finally:
                keyboard.close(force=True)

    def view(self, line: str) -> None:
        view = self.start(line)
        url = view.wait_for(r"replay: (http://localhost:\d+/)", 60).group(1)
        assert b"<html" in http_get(url).lower()
        replay = json.loads(http_get(url + "api/replay"))
        assert len(replay["truth"]) > 10 and "events" in replay
        view.proc.send_signal(signal.SIGINT)  # Ctrl-C
        assert view.finish(30) == 0, "\n".join(view.lines[-20:])

    def apply_edit(self, code: str) -> None:
        """The student replaces the starter's control() with the guide's."""
        assert self.copied_starter is not None, "the guide edits the node before copying it"
        node_file = self.copied_starter / "station_runner/station_runner/navigator_node.py"
        text = node_file.read_text()
        begin, end = text.index(STARTER_CONTROL), text.index(STARTER_AFTER_CONTROL)
        assert code.startswith(STARTER_CONTROL), "the guide's block is not the whole control()"
        text = text[:begin] + code.rstrip() + "\n\n" + text[end:]
        compile(text, str(node_file), "exec")
        node_file.write_text(text)
        self.edited = self.copied_starter

    def close(self) -> None:
        for running in self.started:
            running.close()


# --- the test -----------------------------------------------------------------------------------


def test_guide_holds_the_same_commands_in_both_languages():
    korean, english = guide_parts()
    assert [s.commands() for s in korean] == [s.commands() for s in english]
    python = [[code_only(t) for k, t in s.items if k == "python"] for s in korean]
    assert python == [[code_only(t) for k, t in s.items if k == "python"] for s in english]
    assert sum(map(len, python)) == 1, "one python block: the first node's control()"
    lines = {c for s in korean for c in s.commands()}
    for listed in (*STAND_INS, *CHECKED_STATICALLY):
        assert listed in lines, f"{listed!r} is listed here but no longer in the guide"


@pytest.mark.heavy  # it grades once and runs the simulator five times
def test_every_command_of_the_student_guide_runs_as_a_student_would(tmp_path):
    korean, _ = guide_parts()
    home = tmp_path / "home"
    home.mkdir()
    student = Student(home)
    t0 = time.monotonic()
    try:
        for section in korean:
            with lease_domain() as lease:
                student.on_new_step(lease.domain_id)
                for kind, text in section.items:
                    if kind == "python":
                        student.apply_edit(text)
                    else:
                        student.run(text)
                if student.dev is not None:  # stopped at the end of its step at the latest
                    student.stop_dev()
    except BaseException:
        (tmp_path / "transcript.txt").write_text("\n".join(student.transcript))
        raise
    finally:
        student.close()
        for line, seconds in student.timings:
            print(f"{seconds:6.1f} s  {line}")
        print(f"{time.monotonic() - t0:6.1f} s  in all")
    ran = [line for line, _ in student.timings]
    assert len(ran) == sum(len(s.commands()) for s in korean)
    assert student.restart_checked and student.edited is not None
