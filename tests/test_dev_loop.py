"""The student's loop: `rootroute dev` runs a submission in the grader's world interactively,
`rootroute sim` gives nodes started by hand the same mission topics, and the keyboard teleop
drives the robot there through the safety mux. Real processes, real rclpy, real MuJoCo."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time

import pexpect
import pytest
from geometry_msgs.msg import PoseArray
from nav_msgs.msg import Odometry
from rclpy.qos import DurabilityPolicy, QoSProfile
from std_msgs.msg import String

from curriculum_pkg.scenario import load_scenario


class Cli:
    """`python -m curriculum_pkg.cli ARGS` with stdin to type into and stdout read line by line."""

    def __init__(self, args: list[str], env: dict, cwd):
        self.proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "curriculum_pkg.cli", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=cwd,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))

    def wait_for(self, text: str, timeout_s: float = 90.0) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            self.lines.append(line)
            if text in line:
                return line
        raise AssertionError(f"{text!r} never came; output:\n" + "\n".join(self.lines[-40:]))

    def type(self, line: str) -> None:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def cli(ros_domain, tmp_path):
    env = {**os.environ, **ros_domain.env(), "ROS_LOG_DIR": str(tmp_path / "ros_log")}
    started: list[Cli] = []

    def start(*args: str) -> Cli:
        started.append(Cli(list(args), env, tmp_path))
        return started[-1]

    yield start
    for c in started:
        c.close()


def test_dev_runs_the_submission_in_the_graders_world_and_restarts_on_request(
    cli, submission, assignment_dir, tmp_path
):
    dev = cli(
        "dev", str(submission.path), "-a", str(assignment_dir / "assignment.yaml"),
        "--rtf", "3", "-o", str(tmp_path / "dev"),
    )  # fmt: skip
    dev.wait_for("ROS_DOMAIN_ID=")
    first = dev.wait_for("score so far")  # the grader's graph checks and judge, every second
    assert "작업 / tasks 0/" in first
    dev.type("r")
    dev.wait_for("다시 시작 / restarting")
    dev.wait_for("설치 / install")  # reinstalled: the student's edits count
    dev.wait_for("score so far")
    dev.type("q")
    assert dev.proc.wait(timeout=30) == 0
    # The episode's MCAP is there to replay, the logs to read.
    assert list((tmp_path / "dev/recordings").glob("*.mcap"))
    assert (tmp_path / "dev/logs").is_dir()


def test_dev_shows_a_broken_node_as_the_grader_would_and_waits_for_a_fix(
    cli, submission, assignment_dir, tmp_path
):
    submission.edit("super().__init__(", "super().__init__(((")  # a syntax error
    dev = cli(
        "dev", str(submission.path), "-a", str(assignment_dir / "assignment.yaml"),
        "-o", str(tmp_path / "dev"),
    )  # fmt: skip
    error = dev.wait_for("오류 / error:")
    assert "plating_stations.launch.yaml:" in error  # located, as the grader locates it
    korean = dev.wait_for("다시 시작 / restart")
    assert dev.proc.poll() is None  # waiting for the fix, not gone
    assert korean
    dev.type("q")
    assert dev.proc.wait(timeout=30) == 0


def test_keyboard_teleop_drives_the_robot_through_the_safety_mux_in_the_dev_world(
    cli, submission, assignment_dir, ros_domain, ros_node, tmp_path
):
    # The starter publishes no motion: whatever moves the robot is the keyboard, through the mux.
    dev = cli(
        "dev", str(submission.path), "-a", str(assignment_dir / "assignment.yaml"),
        "-o", str(tmp_path / "dev"),
    )  # fmt: skip
    dev.wait_for("score so far")
    poses: list[float] = []
    ros_node.create_subscription(
        Odometry, "/odom", lambda m: poses.append(m.pose.pose.position.x), 10
    )
    assert ros_node.spin_until(lambda: poses, 20)
    start_x = poses[-1]
    env = {**os.environ, **ros_domain.env(), "ROS_LOG_DIR": str(tmp_path / "ros_log")}
    keyboard = pexpect.spawn(
        sys.executable,
        ["-m", "teleop_pkg.nodes.teleop_keyboard_node"],
        env=env,
        encoding="utf-8",
        timeout=20,
    )
    try:
        keyboard.expect("CTRL-C")
        for _ in range(10):  # 0.10 m/s ahead
            keyboard.send("w")
        keyboard.expect(r"linear \+0\.10 m/s")
        assert ros_node.spin_until(lambda: poses[-1] - start_x > 0.15, 40), poses[-5:]
        keyboard.sendcontrol("c")
    finally:
        keyboard.close(force=True)
    dev.type("q")
    assert dev.proc.wait(timeout=30) == 0


def test_sim_publishes_the_mission_topics_for_nodes_started_by_hand(cli, ros_node):
    scenario = load_scenario("banwol_plating_01")
    sim = cli("sim", "banwol_plating_01")
    sim.wait_for("mission")
    latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
    missions: list[PoseArray] = []
    steps: list[String] = []
    ros_node.create_subscription(PoseArray, "/mission/waypoints", missions.append, latched)
    ros_node.create_subscription(String, "/mission/steps", steps.append, latched)
    assert ros_node.spin_until(lambda: missions and steps, 30)
    assert len(missions[0].poses) == len(scenario.tasks)
    assert steps[0].data == " ".join(t.name for t in scenario.tasks)
    assert missions[0].header.frame_id == "odom"
    sim.wait_for("작업 / tasks 0/")  # the judge's progress, every simulated second
    sim.type("q")
    assert sim.proc.wait(timeout=30) == 0
