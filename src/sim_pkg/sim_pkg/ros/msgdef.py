"""ROS 2 message types by name: their full ros2msg definition text, and their Python classes.

A ros2msg schema is what MCAP recordings (curriculum_pkg/recording.py) and Foxglove's WebSocket
channels (sim_pkg/ros/foxglove_live.py) carry next to CDR bytes, so that a reader with no ROS
install can decode them. The text is read from the installed .msg files, without rclpy.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path

from rosidl_adapter.parser import parse_message_string

from common_pkg.errors import LocatedError

# The separator rosbag2 puts before each dependency of a ros2msg schema (80 '=').
DEFINITION_SEPARATOR = "=" * 80


class MessageTypeError(LocatedError):
    """A message type name is malformed, or its definition or Python class is not installed."""


def split_type_name(type_name: str) -> tuple[str, str]:
    """'geometry_msgs/msg/Twist' (or 'geometry_msgs/Twist') -> ('geometry_msgs', 'Twist')."""
    parts = type_name.split("/")
    if len(parts) == 3 and parts[1] == "msg" and all(parts):
        return parts[0], parts[2]
    if len(parts) == 2 and all(parts):
        return parts[0], parts[1]
    raise MessageTypeError(
        type_name,
        "not a message type name; expected pkg/msg/Type, e.g. geometry_msgs/msg/Twist",
        "메시지 타입 이름이 아닙니다. pkg/msg/Type 형식이어야 합니다 (예: geometry_msgs/msg/Twist)",
    )


def type_name_of(message_class: type) -> str:
    """nav_msgs.msg.Odometry (the class or an instance's type) -> 'nav_msgs/msg/Odometry'."""
    return f"{message_class.__module__.split('.')[0]}/msg/{message_class.__name__}"


def message_class(type_name: str) -> type:
    """'nav_msgs/msg/Path' -> the generated Python class nav_msgs.msg.Path."""
    package, name = split_type_name(type_name)
    try:
        return getattr(importlib.import_module(f"{package}.msg"), name)
    except (ImportError, AttributeError):
        raise MessageTypeError(
            type_name,
            "no Python message class installed for this type",
            "이 타입의 파이썬 메시지 클래스가 설치되어 있지 않습니다",
        ) from None


def _share_dirs(package: str) -> list[Path]:
    """Where a package's interface files are: the ament index, then this Python's own prefix
    (the ROS wheels install share/ into the venv without setting AMENT_PREFIX_PATH)."""
    dirs = []
    try:
        from ament_index_python.packages import get_package_share_directory

        dirs.append(Path(get_package_share_directory(package)))
    except (ImportError, LookupError, OSError, ValueError):  # not indexed, or no index at all
        pass
    dirs.append(Path(sys.prefix) / "share" / package)
    return dirs


def read_msg_file(package: str, name: str) -> str:
    """The text of <package>/msg/<name>.msg as installed."""
    for share in _share_dirs(package):
        path = share / "msg" / f"{name}.msg"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    raise MessageTypeError(
        f"{package}/msg/{name}",
        "no .msg definition installed for this type (is the interface package installed?)",
        "이 타입의 .msg 정의가 설치되어 있지 않습니다 (인터페이스 패키지가 설치되어 있나요?)",
    )


def message_definition(type_name: str, read_msg: Callable[[str, str], str] = read_msg_file) -> str:
    """The complete ros2msg definition of a type, as rosbag2 stores it: the type's .msg text,
    then each type it uses, once, depth first in name order, after a line of 80 '=' and a line
    'MSG: pkg/Type'. Decoders (mcap_ros2, Foxglove) need the whole closure to read a message."""
    seen: set[str] = set()

    def expand(package: str, name: str) -> str:
        text = read_msg(package, name)
        spec = parse_message_string(package, name, text)  # the ROS .msg parser (rosidl_adapter)
        uses = sorted(
            {
                f"{f.type.pkg_name}/{f.type.type}"
                for f in spec.fields
                if not f.type.is_primitive_type()
            }
        )
        for dependency in uses:
            if dependency not in seen:
                seen.add(dependency)
                text += f"\n{DEFINITION_SEPARATOR}\nMSG: {dependency}\n"
                text += expand(*dependency.split("/"))
        return text

    return expand(*split_type_name(type_name))
