"""Parameters of the safety_mux node -> MuxConfig (declared with descriptors and ranges).

Sources are a list of names; each has `<name>.topic`, `<name>.priority` and `<name>.timeout_s`:

    ros2 run teleop_pkg safety_mux --ros-args -p source_names:="[teleop, autonomy, docking]" \
        -p docking.topic:=/cmd_vel_docking -p docking.priority:=50

Speeds may be lowered below the robot profile's, never raised past them.
"""

from __future__ import annotations

from dataclasses import dataclass

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.node import Node

from common_pkg.profile import DEFAULT_PROFILE, load_profile
from teleop_pkg.safety_mux import MuxConfig, SourceConfig
from teleop_pkg.scan_envelope import EnvelopeConfig

DEFAULT_PRIORITIES = {"teleop": 100, "autonomy": 10}  # e-stop > teleop > autonomy


@dataclass(frozen=True)
class NodeSettings:
    cfg: MuxConfig
    topics: dict[str, str]  # source name -> input topic
    stamped: bool  # TwistStamped (Jazzy) or Twist (Humble)
    rate_hz: float  # fixed output rate
    diagnostics_rate_hz: float
    publish_on_input: bool
    lidar_xy_m: tuple[float, float]  # lidar in base_footprint
    frame_id: str


def _float(node: Node, name: str, default: float, text: str, lo: float, hi: float) -> float:
    rng = FloatingPointRange(from_value=lo, to_value=hi)
    desc = ParameterDescriptor(description=text, floating_point_range=[rng])
    return float(node.declare_parameter(name, float(default), desc).value)


def _bool(node: Node, name: str, default: bool, text: str) -> bool:
    return bool(node.declare_parameter(name, default, ParameterDescriptor(description=text)).value)


def declare_mux_parameters(node: Node) -> NodeSettings:
    profile = load_profile(node.declare_parameter("robot_profile", DEFAULT_PROFILE).value)
    names = node.declare_parameter(
        "source_names",
        list(DEFAULT_PRIORITIES),
        ParameterDescriptor(
            description="velocity sources, each with <name>.topic/priority/timeout_s"
        ),
    ).value
    sources, topics = [], {}
    for name in names:
        topics[name] = node.declare_parameter(f"{name}.topic", f"/cmd_vel_{name}").value
        priority = node.declare_parameter(
            f"{name}.priority",
            DEFAULT_PRIORITIES.get(name, 1),
            ParameterDescriptor(
                description="higher wins", integer_range=[IntegerRange(from_value=0, to_value=1000)]
            ),
        ).value
        timeout = _float(node, f"{name}.timeout_s", 0.5, "dropped after this silence, s", 0.01, 10)
        sources.append(SourceConfig(name, int(priority), timeout))

    lidar_x, lidar_y, _ = profile.raw["lidar"]["mount_xyz_m"]
    cfg = MuxConfig(
        sources=tuple(sources),
        max_linear_mps=min(
            _float(node, "max_linear_mps", profile.max_linear_mps, "speed limit, m/s", 0, 10),
            profile.max_linear_mps,
        ),
        max_angular_rps=min(
            _float(node, "max_angular_rps", profile.max_angular_rps, "turn limit, rad/s", 0, 10),
            profile.max_angular_rps,
        ),
        max_linear_accel_mps2=_float(
            node, "max_linear_accel_mps2", 0.5, "acceleration limit, m/s^2", 0.01, 1000
        ),
        max_angular_accel_rps2=_float(
            node, "max_angular_accel_rps2", 2.0, "angular acceleration limit, rad/s^2", 0.01, 1000
        ),
        envelope=EnvelopeConfig(
            footprint_front_m=_float(node, "footprint_front_m", 0.07, "to the bumper, m", 0, 2),
            footprint_back_m=_float(node, "footprint_back_m", 0.2, "to the back, m", 0, 2),
            footprint_half_width_m=_float(node, "footprint_half_width_m", 0.15, "m", 0, 2),
            stop_distance_m=_float(node, "stop_distance_m", 0.25, "stop at this gap, m", 0, 5),
            slow_distance_m=_float(node, "slow_distance_m", 0.7, "slow from this gap, m", 0, 10),
            stop_hysteresis_m=_float(
                node, "stop_hysteresis_m", 0.03, "resume past stop + this", 0, 1
            ),
            side_margin_m=_float(node, "side_margin_m", 0.05, "corridor/swing margin, m", 0, 1),
            creep_speed_mps=_float(node, "creep_speed_mps", 0.02, "slowest approach, m/s", 0, 0.2),
            require_scan=_bool(node, "require_scan", True, "no fresh /scan: no motion"),
            scan_timeout_s=_float(
                node, "scan_timeout_s", 1.0, "older scans are stale, s", 0.05, 10
            ),
        ),
    )
    return NodeSettings(
        cfg=cfg,
        topics=topics,
        # the distribution's /cmd_vel (common_pkg.distro), unless the parameter says otherwise
        stamped=_bool(
            node,
            "use_stamped_cmd_vel",
            profile.cmd_vel_stamped,
            f"TwistStamped (Jazzy) or Twist (Humble); default: {profile.ros_distro}'s",
        ),
        rate_hz=_float(node, "rate_hz", 20.0, "fixed /cmd_vel rate, Hz", 1, 1000),
        diagnostics_rate_hz=_float(node, "diagnostics_rate_hz", 1.0, "/diagnostics rate", 0.1, 10),
        publish_on_input=_bool(
            node, "publish_on_input", True, "also publish at once on a new input"
        ),
        lidar_xy_m=(float(lidar_x), float(lidar_y)),
        frame_id=profile.base_frame_id,
    )
