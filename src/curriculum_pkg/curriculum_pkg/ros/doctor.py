"""Checks behind `rootroute doctor`: rclpy, the RMW, MuJoCo + its GL backend, a DDS round trip,
and the sandbox student code is graded in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Check:
    ok: bool
    what: str
    detail: str


def run_checks() -> Iterator[Check]:
    """Each check reports; none raises."""
    try:
        import rclpy
        from rclpy.utilities import get_rmw_implementation_identifier

        yield Check(True, "rclpy", str(Path(rclpy.__file__).parent))
        yield Check(True, "RMW", get_rmw_implementation_identifier())
    except Exception as exc:
        yield Check(False, "rclpy", f"{type(exc).__name__}: {exc}")
        return
    try:
        import mujoco

        yield Check(True, "MuJoCo", mujoco.__version__)
        model = mujoco.MjModel.from_xml_string(
            "<mujoco><worldbody><geom size='1'/></worldbody></mujoco>"
        )
        with mujoco.Renderer(model, 48, 64) as renderer:
            renderer.render()
        yield Check(True, "MuJoCo GL backend", f"MUJOCO_GL={os.environ.get('MUJOCO_GL')} renders")
    except Exception as exc:
        yield Check(False, "MuJoCo GL backend", f"MUJOCO_GL={os.environ.get('MUJOCO_GL')}: {exc}")
    yield dds_round_trip()
    yield from sandbox_checks()


_SANDBOX_PROBE = """
import json, sys
from curriculum_pkg.sandbox import Sandbox, SandboxInfo, enter_private_network
info = SandboxInfo()
enter_private_network(info)
box = Sandbox.for_run(info, sys.argv[1], ())
if box.cgroup is not None:
    box.cgroup.kill_all(0)
print(json.dumps(info.as_dict()))
"""


def sandbox_checks() -> Iterator[Check]:
    """Set up a grading run's sandbox in a throwaway process, as the grader's worker does."""
    run = subprocess.run(
        [sys.executable, "-c", _SANDBOX_PROBE, f"doctor-{os.getpid()}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    try:
        info = json.loads(run.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        yield Check(False, "sandbox", f"probe failed: {run.stderr.strip()[-300:]}")
        return
    missing = " | ".join(m["en"] for m in info["missing"])
    for key, what, detail in (
        ("network_namespace", "sandbox: network", "private loopback-only namespace"),
        ("bubblewrap", "sandbox: bubblewrap", "read-only system, private /tmp, user nobody"),
        ("cgroup_limits", "sandbox: cgroups", "memory + pids limits per run"),
    ):
        yield Check(info[key], what, detail if info[key] else missing)


_ECHO = """
import rclpy
from std_msgs.msg import String
rclpy.init()
node = rclpy.create_node('doctor_echo')
pub = node.create_publisher(String, 'doctor_pong', 10)
node.create_subscription(String, 'doctor_ping', lambda m: pub.publish(m), 10)
end = node.get_clock().now().nanoseconds + 20e9
while rclpy.ok() and node.get_clock().now().nanoseconds < end:
    rclpy.spin_once(node, timeout_sec=0.1)
"""


def dds_round_trip(timeout_s: float = 15.0) -> Check:
    """Ping a String through a second process and back, on a leased domain, localhost only."""
    import rclpy
    from std_msgs.msg import String

    from curriculum_pkg.ros.session import RosSession
    from sim_pkg.domain import lease_domain

    with lease_domain() as lease, RosSession(lease.domain_id) as session:
        echo = subprocess.Popen(
            [sys.executable, "-c", _ECHO],
            env={**os.environ, **lease.env()},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        node = rclpy.create_node("doctor_ping", context=session.context)
        replies: list[float] = []
        node.create_subscription(
            String, "doctor_pong", lambda _m: replies.append(time.monotonic()), 10
        )
        pub = node.create_publisher(String, "doctor_ping", 10)
        executor = rclpy.executors.SingleThreadedExecutor(context=session.context)
        executor.add_node(node)
        t0 = sent = time.monotonic()
        try:
            while not replies and time.monotonic() - t0 < timeout_s:
                sent = time.monotonic()
                pub.publish(String(data="ping"))
                executor.spin_once(timeout_sec=0.2)
        finally:
            echo.kill()
            echo.wait()
            executor.shutdown()
            node.destroy_node()
    if replies:
        return Check(
            True,
            "DDS round trip",
            f"domain {lease.domain_id}, {1000 * (replies[0] - sent):.1f} ms "
            f"(after {replies[0] - t0:.1f} s of discovery)",
        )
    return Check(
        False,
        "DDS round trip",
        f"no reply from a second process in {timeout_s:g} s (domain {lease.domain_id})",
    )
