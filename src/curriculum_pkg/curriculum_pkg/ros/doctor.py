"""Checks behind `rootroute doctor`: rclpy, the RMW, MuJoCo + its GL backend, a DDS round trip,
and the sandbox student code is graded in (its network, bubblewrap, the cgroup version and the
memory, process and CPU limits each run gets)."""

from __future__ import annotations

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


def sandbox_checks() -> Iterator[Check]:
    """Set a grading run's sandbox up in a throwaway process, as the grader's worker does
    (sandbox.probe_sandbox), and say what holds: the private network, bubblewrap, the cgroup
    version and each per-run limit. Then, for what does not, why (Korean, then English)."""
    from curriculum_pkg.cgroups import CgroupLayout
    from curriculum_pkg.sandbox import probe_sandbox

    info = probe_sandbox()
    for ok, what, detail in (
        (
            info.network,
            "샌드박스: 네트워크 / sandbox: network",
            "전용 루프백 네트워크 / private loopback-only namespace",
        ),
        (
            info.filesystem,
            "샌드박스: bubblewrap / sandbox: bubblewrap",
            "읽기 전용 시스템, 전용 /tmp, nobody 사용자 / read-only system, private /tmp, user nobody",
        ),
    ):
        yield Check(ok, what, detail if ok else "없음 / missing")
    layout = CgroupLayout.detect()
    en, ko = layout.describe()
    yield Check(layout.version is not None, "cgroup 버전 / cgroup version", f"{ko} / {en}")
    limits = (
        (
            info.memory_limit_bytes,
            "메모리 제한 / memory limit",
            lambda v: f"채점마다 {v / (1 << 30):g} GiB / {v / (1 << 30):g} GiB per run",
        ),
        (
            info.pids_limit,
            "프로세스 수 제한 / process limit",
            lambda v: f"채점마다 {v}개 / {v} per run",
        ),
        (
            info.cpu_limit_cores,
            "CPU 제한 / CPU limit",
            lambda v: (
                f"채점마다 {v:g}코어 (batch -j N이면 {v:g}/N) / "
                f"{v:g} cores per run ({v:g}/N with batch -j N)"
            ),
        ),
    )
    for value, what, detail in limits:
        yield Check(
            value is not None, what, "적용 불가 / not enforced" if value is None else detail(value)
        )
    for en, ko in info.missing:
        yield Check(False, "  이유 / why", f"{ko} / {en}")
    if not info.cgroups:
        yield Check(
            False,
            "  해결 / fix",
            "root로 실행하거나, 위임받은 cgroup(systemd Delegate=yes) 안에서 실행하세요 / run as "
            "root, or inside a cgroup delegated to you (systemd: Delegate=yes)",
        )


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
