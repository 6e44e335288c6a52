"""The ROS 2 distribution's conventions, in one place (ROS-free): Humble or Jazzy.

One switch, the distribution, decides what differs between the two for this robot:

- /cmd_vel (and every velocity-command topic: cmd_vel, cmd_vel_teleop, cmd_vel_autonomy, ...) is
  geometry_msgs/TwistStamped on Jazzy (turtlebot3_node's enable_stamped_cmd_vel) and
  geometry_msgs/Twist on Humble, as ROBOTIS' turtlebot3 packages and turtlebot3_example use them;
- discovery is limited to this machine with ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST on Jazzy and
  with ROS_LOCALHOST_ONLY=1 on Humble (which ignores the former; Jazzy still honours the latter).

Where the switch comes from: the robot profile's `ros_distro` when it pins one, else $ROS_DISTRO
(which a ROS install's setup.bash sets), else jazzy; `--distro` on the command line overrides it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

DISTROS = ("humble", "jazzy")
DEFAULT_DISTRO = "jazzy"
# Distributions before Iron (ROS_AUTOMATIC_DISCOVERY_RANGE) and before TurtleBot3's stamped
# /cmd_vel: they follow Humble's conventions. Anything newer follows Jazzy's.
_HUMBLE_LIKE = frozenset({"foxy", "galactic", "humble"})

TWIST = "geometry_msgs/msg/Twist"
TWIST_STAMPED = "geometry_msgs/msg/TwistStamped"


def distro_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """The conventions of the install this process runs on ($ROS_DISTRO), or None when unset."""
    name = (os.environ if environ is None else environ).get("ROS_DISTRO", "").strip().lower()
    if not name:
        return None
    return "humble" if name in _HUMBLE_LIKE else "jazzy"


def resolve_distro(
    explicit: str | None = None,
    pinned: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> str:
    """`explicit` (--distro) > `pinned` (the profile's ros_distro) > $ROS_DISTRO > jazzy."""
    for name in (explicit, pinned):
        if name:
            return check_distro(name)
    return distro_from_env(environ) or DEFAULT_DISTRO


def check_distro(name: str) -> str:
    if name not in DISTROS:
        raise ValueError(f"unknown ROS distribution {name!r}: use one of {', '.join(DISTROS)}")
    return name


def cmd_vel_stamped(distro: str) -> bool:
    """Whether the robot takes geometry_msgs/TwistStamped (Jazzy) rather than Twist (Humble)."""
    return check_distro(distro) == "jazzy"


def cmd_vel_type_name(distro: str) -> str:
    return TWIST_STAMPED if cmd_vel_stamped(distro) else TWIST


def is_velocity_command(topic: str) -> bool:
    """cmd_vel and its variants (cmd_vel_teleop, cmd_vel_autonomy, Nav2's cmd_vel_nav), in any
    namespace: the topics whose type follows the distribution."""
    return topic.rstrip("/").rsplit("/", 1)[-1].startswith("cmd_vel")


def command_type_for(distro: str, topic: str, type_name: str) -> str:
    """The type a required topic has under `distro`: a velocity command written as one form
    (assignments are written for Jazzy) becomes the distribution's; every other type stays."""
    if is_velocity_command(topic) and type_name in (TWIST, TWIST_STAMPED):
        return cmd_vel_type_name(distro)
    return type_name


def localhost_only_env(distro: str) -> dict[str, str]:
    """The variable that keeps discovery on this machine, as `distro` reads it."""
    if check_distro(distro) == "humble":
        return {"ROS_LOCALHOST_ONLY": "1"}
    return {"ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"}


def graph_env(distro: str) -> dict[str, str]:
    """What the grader gives every process of a graph: the distribution (as setup.bash would
    set it, so nodes pick their /cmd_vel type as on the robot) and localhost-only discovery."""
    return {"ROS_DISTRO": check_distro(distro), **localhost_only_env(distro)}
