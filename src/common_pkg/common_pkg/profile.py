"""The robot profile: every number about the robot, loaded once from config/robots/<name>.yaml."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from common_pkg.distro import DISTROS, cmd_vel_stamped, resolve_distro
from common_pkg.errors import ProfileError
from common_pkg.package_data import package_data_dir
from common_pkg.yamlio import load_yaml, validate

DEFAULT_PROFILE = "turtlebot3_waffle_pi_omx"

_VEC3 = {"type": "array", "items": {"type": "number"}, "minItems": 3, "maxItems": 3}
_POS = {"type": "number", "exclusiveMinimum": 0}
_TOPIC = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "pattern": "^/"},
        "qos": {"enum": ["reliable", "sensor"]},
        "rate_hz": _POS,
    },
}
_SCHEMA = {
    "type": "object",
    "required": [
        "name",
        "base",
        "drive",
        "odometry",
        "lidar",
        "camera",
        "arm",
        "topics",
        "simulation",
    ],
    "properties": {
        "name": {"type": "string"},
        # the ROS 2 distribution's conventions (common_pkg.distro); absent: $ROS_DISTRO, else jazzy
        "ros_distro": {"enum": list(DISTROS)},
        "base": {
            "type": "object",
            "required": [
                "base_link_height_m",
                "chassis_center_m",
                "chassis_size_m",
                "chassis_mass_kg",
                "wheel_y_m",
                "wheel_z_m",
                "wheel_width_m",
                "wheel_mass_kg",
                "caster_xy_m",
                "caster_radius_m",
                "caster_mass_kg",
            ],
        },
        "drive": {
            "type": "object",
            "required": [
                "wheel_separation_m",
                "wheel_radius_m",
                "max_linear_mps",
                "max_angular_rps",
                "wheel_max_torque_nm",
                "wheel_friction",
                "cmd_vel_timeout_s",
                "wheel_velocity_gain_nm_s",
                "wheel_armature_kg_m2",
                "wheel_damping_nm_s",
            ],
            "properties": {
                "wheel_separation_m": _POS,
                "wheel_radius_m": _POS,
                "max_linear_mps": _POS,
                "max_angular_rps": _POS,
            },
        },
        "odometry": {"type": "object", "required": ["rate_hz", "frame_id", "child_frame_id"]},
        "lidar": {
            "type": "object",
            "required": [
                "frame_id",
                "mount_xyz_m",
                "samples",
                "range_min_m",
                "range_max_m",
                "rate_hz",
                "noise_std_m",
                "noise_std_fraction",
                "invalid_range_value",
                "housing",
            ],
            "properties": {"mount_xyz_m": _VEC3, "samples": {"type": "integer", "minimum": 1}},
        },
        "camera": {
            "type": "object",
            "required": [
                "frame_id",
                "mount_xyz_m",
                "width_px",
                "height_px",
                "horizontal_fov_rad",
                "rate_hz",
            ],
            "properties": {"mount_xyz_m": _VEC3},
        },
        "arm": {
            "type": "object",
            "required": [
                "mount_xyz_m",
                "joints",
                "gripper",
                "home_rad",
                "link_mass_kg",
                "link_boxes_m",
                "finger_box_m",
                "servo",
                "gripper_servo",
            ],
            "properties": {
                "mount_xyz_m": _VEC3,
                "joints": {
                    "type": "array",
                    "minItems": 4,
                    "maxItems": 4,
                    "items": {
                        "type": "object",
                        "required": [
                            "name",
                            "lower_rad",
                            "upper_rad",
                            "max_velocity_rps",
                            "max_acceleration_rps2",
                        ],
                    },
                },
                "home_rad": {"type": "array", "minItems": 4, "maxItems": 4},
                "link_mass_kg": {"type": "array", "minItems": 5, "maxItems": 5},
                "link_boxes_m": {"type": "array", "minItems": 5, "maxItems": 5},
            },
        },
        "topics": {
            "type": "object",
            "required": [
                "clock",
                "cmd_vel",
                "odom",
                "scan",
                "image",
                "camera_info",
                "joint_states",
                "arm_trajectory",
                "gripper_command",
            ],
            "additionalProperties": _TOPIC,
        },
        "simulation": {"type": "object", "required": ["physics_timestep_s", "control_period_s"]},
    },
}


@dataclass(frozen=True)
class JointLimit:
    name: str
    lower: float
    upper: float
    max_velocity: float

    def clamp(self, value: float) -> float:
        return min(max(value, self.lower), self.upper)


@dataclass(frozen=True)
class Topic:
    name: str
    qos: str = "reliable"  # "reliable" or "sensor" (best effort, keep last 5)
    rate_hz: float = 0.0


@dataclass(frozen=True)
class RobotProfile:
    """Typed view of a profile file. `raw` keeps the geometry sections for the MJCF builder."""

    name: str
    source_path: Path
    raw: dict
    # drive
    wheel_separation_m: float
    wheel_radius_m: float
    max_linear_mps: float
    max_angular_rps: float
    cmd_vel_timeout_s: float
    # sensors
    odom_rate_hz: float
    odom_frame_id: str
    base_frame_id: str
    lidar_frame_id: str
    lidar_samples: int
    lidar_range_min_m: float
    lidar_range_max_m: float
    lidar_rate_hz: float
    lidar_noise_std_m: float
    lidar_noise_std_fraction: float
    lidar_invalid_value: float
    camera_frame_id: str
    camera_width_px: int
    camera_height_px: int
    camera_hfov_rad: float
    camera_rate_hz: float
    # arm
    arm_joints: tuple[JointLimit, ...]
    arm_max_acceleration_rps2: tuple[float, ...]
    gripper: JointLimit
    gripper_mimic_joint: str
    arm_home_rad: tuple[float, ...]
    # interfaces and timing
    topics: dict[str, Topic]
    physics_timestep_s: float
    control_period_s: float
    clock_period_s: float  # /clock and due sensor data go out once per clock period
    # fixed frames, relative to base_link (REP-105; TurtleBot3's URDF)
    base_link_height_m: float  # base_link above base_footprint (the floor)
    lidar_mount_xyz_m: tuple[float, float, float]
    camera_mount_xyz_m: tuple[float, float, float]  # camera_rgb_frame (x forward, not optical)
    arm_mount_xyz_m: tuple[float, float, float]  # link1
    # "humble" or "jazzy": the ROS 2 distribution's conventions (common_pkg.distro)
    ros_distro: str = "jazzy"

    @property
    def cmd_vel_stamped(self) -> bool:
        """/cmd_vel is geometry_msgs/TwistStamped (Jazzy), else Twist (Humble)."""
        return cmd_vel_stamped(self.ros_distro)

    @property
    def steps_per_tick(self) -> int:
        """Control periods per clock tick (at least one)."""
        return max(1, round(self.clock_period_s / self.control_period_s))

    @property
    def camera_vfov_rad(self) -> float:
        aspect = self.camera_height_px / self.camera_width_px
        return 2.0 * math.atan(math.tan(self.camera_hfov_rad / 2.0) * aspect)

    @property
    def wheel_joint_names(self) -> tuple[str, str]:
        return ("wheel_left_joint", "wheel_right_joint")


def config_dir() -> Path:
    """The robot profiles, DDS profiles and parameter files: the repository's config/ folder.

    Built with colcon, common_pkg installs it as share/common_pkg/config (found through the ament
    index); from a checkout it is read in place. $ROOTROUTE_CONFIG, when set, overrides both.
    """
    env = os.environ.get("ROOTROUTE_CONFIG")
    if env:
        return Path(env)
    return package_data_dir("common_pkg", "config", Path(__file__).resolve().parents[3] / "config")


def resolve_profile_path(name_or_path: str | os.PathLike) -> Path:
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml"):
        return path
    return config_dir() / "robots" / f"{name_or_path}.yaml"


def load_profile(
    name_or_path: str | os.PathLike = DEFAULT_PROFILE, ros_distro: str | None = None
) -> RobotProfile:
    """The profile, its distribution being `ros_distro` (--distro) if given, else the file's
    `ros_distro`, else $ROS_DISTRO's conventions, else jazzy (common_pkg.distro.resolve_distro)."""
    path = resolve_profile_path(name_or_path)
    data, locate = load_yaml(path, ProfileError)
    validate(data, _SCHEMA, locate, ProfileError)
    if "cmd_vel_stamped" in data["drive"]:  # one switch now: the distribution
        raise ProfileError(
            locate(("drive", "cmd_vel_stamped")),
            "cmd_vel_stamped is replaced by ros_distro (humble: Twist, jazzy: TwistStamped) "
            "at the top of the profile",
            "cmd_vel_stamped 대신 프로필 맨 위의 ros_distro를 쓰세요 (humble: Twist, jazzy: TwistStamped)",
        )
    d, lid, cam, arm = data["drive"], data["lidar"], data["camera"], data["arm"]
    grip = arm["gripper"]
    return RobotProfile(
        name=data["name"],
        source_path=path,
        raw=data,
        wheel_separation_m=float(d["wheel_separation_m"]),
        wheel_radius_m=float(d["wheel_radius_m"]),
        max_linear_mps=float(d["max_linear_mps"]),
        max_angular_rps=float(d["max_angular_rps"]),
        cmd_vel_timeout_s=float(d["cmd_vel_timeout_s"]),
        odom_rate_hz=float(data["odometry"]["rate_hz"]),
        odom_frame_id=data["odometry"]["frame_id"],
        base_frame_id=data["odometry"]["child_frame_id"],
        lidar_frame_id=lid["frame_id"],
        lidar_samples=int(lid["samples"]),
        lidar_range_min_m=float(lid["range_min_m"]),
        lidar_range_max_m=float(lid["range_max_m"]),
        lidar_rate_hz=float(lid["rate_hz"]),
        lidar_noise_std_m=float(lid["noise_std_m"]),
        lidar_noise_std_fraction=float(lid["noise_std_fraction"]),
        lidar_invalid_value=float(lid["invalid_range_value"]),
        camera_frame_id=cam["frame_id"],
        camera_width_px=int(cam["width_px"]),
        camera_height_px=int(cam["height_px"]),
        camera_hfov_rad=float(cam["horizontal_fov_rad"]),
        camera_rate_hz=float(cam["rate_hz"]),
        arm_joints=tuple(
            JointLimit(j["name"], j["lower_rad"], j["upper_rad"], j["max_velocity_rps"])
            for j in arm["joints"]
        ),
        arm_max_acceleration_rps2=tuple(float(j["max_acceleration_rps2"]) for j in arm["joints"]),
        gripper=JointLimit(
            grip["joint"], grip["lower_m"], grip["upper_m"], grip["max_velocity_mps"]
        ),
        gripper_mimic_joint=grip["mimic_joint"],
        arm_home_rad=tuple(float(x) for x in arm["home_rad"]),
        topics={
            k: Topic(v["name"], v.get("qos", "reliable"), float(v.get("rate_hz", 0.0)))
            for k, v in data["topics"].items()
        },
        physics_timestep_s=float(data["simulation"]["physics_timestep_s"]),
        control_period_s=float(data["simulation"]["control_period_s"]),
        clock_period_s=float(
            data["simulation"].get("clock_period_s", data["simulation"]["control_period_s"])
        ),
        base_link_height_m=float(data["base"]["base_link_height_m"]),
        lidar_mount_xyz_m=_xyz(lid["mount_xyz_m"]),
        camera_mount_xyz_m=_xyz(cam["mount_xyz_m"]),
        arm_mount_xyz_m=_xyz(arm["mount_xyz_m"]),
        ros_distro=resolve_distro(ros_distro, data.get("ros_distro")),
    )


def _xyz(values) -> tuple[float, float, float]:
    x, y, z = (float(v) for v in values)
    return (x, y, z)
