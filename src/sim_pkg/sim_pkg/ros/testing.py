"""pytest fixtures for multi-process ROS 2 tests (loaded by the repository's root conftest.py).

- `profile`: the default robot profile.
- `ros_domain`: a leased ROS_DOMAIN_ID, localhost-only, released after the test.
- `ros_node`: an rclpy node in this process on that domain, with `spin_until(condition, timeout_s)`.
- `ros_process`: start `python -m MODULE --ros-args ...` on that domain (`env=` adds variables,
  e.g. common_pkg.distro.graph_env("humble")); every process started is terminated (then killed)
  after the test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from sim_pkg.domain import lease_domain


@pytest.fixture(scope="session")
def profile():
    """The default robot profile (TurtleBot3 Waffle Pi + OpenMANIPULATOR-X)."""
    from common_pkg.profile import load_profile

    return load_profile()


@pytest.fixture
def ros_domain():
    with lease_domain() as lease:
        yield lease


@pytest.fixture
def ros_node(ros_domain):
    import rclpy
    from rclpy.executors import SingleThreadedExecutor

    context = rclpy.Context()
    rclpy.init(context=context, domain_id=ros_domain.domain_id)
    node = rclpy.create_node("test_client", context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)

    def spin_until(condition, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not condition():
            executor.spin_once(timeout_sec=0.05)
        return bool(condition())

    node.spin_until = spin_until
    node.executor_for_test = executor
    yield node
    executor.shutdown()
    node.destroy_node()
    rclpy.shutdown(context=context)


@pytest.fixture
def ros_process(ros_domain, tmp_path):
    started: list[subprocess.Popen] = []

    def start(
        module: str, *ros_args: str, params: dict | None = None, env: dict | None = None
    ) -> subprocess.Popen:
        env = {
            **os.environ,
            **ros_domain.env(),
            "ROS_LOG_DIR": str(tmp_path / "ros_log"),
            **(env or {}),
        }
        args = [sys.executable, "-m", module, "--ros-args", *ros_args]
        for key, value in (params or {}).items():
            args += ["-p", f"{key}:={value}"]
        log = open(tmp_path / f"{module.rsplit('.', 1)[-1]}_{len(started)}.log", "w")  # noqa: SIM115
        proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
        proc.log_path = log.name
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.terminate()
    for proc in started:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
