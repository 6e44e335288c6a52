"""Episode recordings: ROS 2 bags in MCAP (profile "ros2", "cdr" messages, "ros2msg" schemas).

ROS-free: the recorder takes the CDR bytes a raw subscription delivers, so the grader, the
standalone recorder node (nodes/recorder_node.py) and the tests share it. The files open in
`ros2 bag play`, `ros2 bag info` and Foxglove. Bounded: camera images at most `image_rate_hz`,
and nothing more after `max_bytes` of message data (noted in the file's metadata).
"""

from __future__ import annotations

import importlib.metadata
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mcap.well_known import MessageEncoding, Profile, SchemaEncoding
from mcap.writer import CompressionType, Writer
from rosidl_adapter.parser import parse_message_string

from sim_pkg.errors import LocatedError

if TYPE_CHECKING:
    from curriculum_pkg.assignment import Assignment
    from sim_pkg.profile import RobotProfile

DEFAULT_MAX_BYTES = 200 * 1024 * 1024
DEFAULT_IMAGE_RATE_HZ = 1.0  # 640x480 rgb8 at 15 Hz would be 14 MB per second of episode
CHUNK_SIZE_BYTES = 1024 * 1024
IMAGE_TYPES = frozenset({"sensor_msgs/msg/Image", "sensor_msgs/msg/CompressedImage"})
# The separator rosbag2 puts before each dependency of a ros2msg schema (80 '=').
DEFINITION_SEPARATOR = "=" * 80
EPISODE_METADATA = "rootroute.episode"
RECORDING_METADATA = "rootroute.recording"

# The types SimBridge publishes and takes (sim_pkg/nodes/bridge_node.py), by profile topic key;
# /cmd_vel depends on the profile's cmd_vel_stamped.
SIM_TOPIC_TYPES = {
    "clock": "rosgraph_msgs/msg/Clock",
    "odom": "nav_msgs/msg/Odometry",
    "scan": "sensor_msgs/msg/LaserScan",
    "image": "sensor_msgs/msg/Image",
    "camera_info": "sensor_msgs/msg/CameraInfo",
    "joint_states": "sensor_msgs/msg/JointState",
    "arm_trajectory": "trajectory_msgs/msg/JointTrajectory",
    "gripper_command": "std_msgs/msg/Float64MultiArray",
}
# Latched topics of the grader's monitor (nodes/grader_monitor_node.py).
MISSION_STEPS_TOPIC = "/mission/steps"


class RecordingError(LocatedError):
    """A topic cannot be recorded: a malformed type name or no .msg definition for it."""


@dataclass(frozen=True)
class RecordedTopic:
    topic: str
    type_name: str  # e.g. geometry_msgs/msg/Twist
    latched: bool = False  # transient-local publisher: subscribe so that its last message arrives


@dataclass(frozen=True)
class RecordingSummary:
    path: Path
    messages: int
    payload_bytes: int  # CDR bytes of the recorded messages, before compression
    truncated: bool  # the byte cap was reached; messages after `truncated_at_ns` are not in it
    truncated_at_ns: int
    images_skipped: int  # left out by the image rate limit
    error: str  # why recording stopped early on a write failure, "" if it did not


def rootroute_version() -> str:
    try:
        return importlib.metadata.version("curriculum_pkg")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


# ------------------------------------------------------------------------ message definitions
def split_type_name(type_name: str) -> tuple[str, str]:
    """'geometry_msgs/msg/Twist' (or 'geometry_msgs/Twist') -> ('geometry_msgs', 'Twist')."""
    parts = type_name.split("/")
    if len(parts) == 3 and parts[1] == "msg" and all(parts):
        return parts[0], parts[2]
    if len(parts) == 2 and all(parts):
        return parts[0], parts[1]
    raise RecordingError(
        type_name,
        "not a message type name; expected pkg/msg/Type, e.g. geometry_msgs/msg/Twist",
        "메시지 타입 이름이 아닙니다. pkg/msg/Type 형식이어야 합니다 (예: geometry_msgs/msg/Twist)",
    )


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
    raise RecordingError(
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


# ------------------------------------------------------------------------------ the recorder
class EpisodeRecorder:
    """Writes CDR messages to one MCAP file. Thread-safe; `close()` must be called to finish it
    (a file that was never closed has no summary, and most tools refuse it)."""

    def __init__(
        self,
        path: str | Path,
        metadata: Mapping[str, str] | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        image_rate_hz: float = DEFAULT_IMAGE_RATE_HZ,
    ):
        self.path = Path(path)
        self.max_bytes = int(max_bytes)
        self.image_rate_hz = float(image_rate_hz)
        # 0 Hz: no images at all.
        self._image_period_ns = round(1e9 / image_rate_hz) if image_rate_hz > 0 else None
        self._lock = threading.Lock()
        self._channels: dict[str, tuple[int, str]] = {}  # topic -> (channel id, type name)
        self._schemas: dict[str, int] = {}  # type name -> schema id
        self._sequence: dict[int, int] = {}
        self._last_image_ns: dict[str, int] = {}
        self._messages = 0
        self._payload_bytes = 0
        self._images_skipped = 0
        self._truncated_at_ns: int | None = None
        self._error = ""
        self._summary: RecordingSummary | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "wb")  # noqa: SIM115 -- closed in close()
        self._writer = Writer(
            self._file, chunk_size=CHUNK_SIZE_BYTES, compression=CompressionType.ZSTD
        )
        self._writer.start(profile=Profile.ROS2, library=f"rootroute/{rootroute_version()}")
        # Written first, so that even a recording cut short says which episode it is.
        self._writer.add_metadata(
            EPISODE_METADATA,
            {
                "rootroute_version": rootroute_version(),
                **{k: str(v) for k, v in (metadata or {}).items()},
            },
        )

    def add_topic(self, topic: str, type_name: str) -> None:
        """Declare a topic up front, so it is listed (with 0 messages) even if nothing arrives."""
        with self._lock:
            self._channel(topic, type_name)

    def _channel(self, topic: str, type_name: str) -> int:
        known = self._channels.get(topic)
        if known is not None:
            if known[1] != type_name:
                raise RecordingError(
                    topic,
                    f"recorded as {known[1]}, now given as {type_name}",
                    f"{known[1]} 타입으로 기록 중인 토픽에 {type_name} 타입이 들어왔습니다",
                )
            return known[0]
        schema_id = self._schemas.get(type_name)
        if schema_id is None:
            definition = message_definition(type_name)
            schema_id = self._writer.register_schema(
                type_name, SchemaEncoding.ROS2, definition.encode("utf-8")
            )
            self._schemas[type_name] = schema_id
        channel_id = self._writer.register_channel(topic, MessageEncoding.CDR, schema_id)
        self._channels[topic] = (channel_id, type_name)
        return channel_id

    def write(
        self,
        topic: str,
        type_name: str,
        data: bytes,
        log_time_ns: int,
        publish_time_ns: int | None = None,
    ) -> bool:
        """Record one serialized message. False if it was left out: the image rate limit, the
        byte cap, a closed recorder or an earlier write failure."""
        with self._lock:
            if self._summary is not None or self._error or self._truncated_at_ns is not None:
                return False
            channel_id = self._channel(topic, type_name)
            if type_name in IMAGE_TYPES:
                last_ns = self._last_image_ns.get(topic)
                if self._image_period_ns is None or (
                    last_ns is not None and log_time_ns - last_ns < self._image_period_ns
                ):
                    self._images_skipped += 1
                    return False
                self._last_image_ns[topic] = log_time_ns
            if self._payload_bytes + len(data) > self.max_bytes:
                self._truncated_at_ns = log_time_ns
                return False
            sequence = self._sequence.get(channel_id, 0)
            try:
                self._writer.add_message(
                    channel_id,
                    log_time=log_time_ns,
                    data=bytes(data),
                    publish_time=log_time_ns if publish_time_ns is None else publish_time_ns,
                    sequence=sequence,
                )
            except OSError as exc:  # a full disk ends the recording, never the episode
                self._error = f"{type(exc).__name__}: {exc}"
                return False
            self._sequence[channel_id] = sequence + 1
            self._messages += 1
            self._payload_bytes += len(data)
            return True

    def image_due(self, topic: str, log_time_ns: int) -> bool:
        """Would an image on `topic` at this time be kept by the image rate limit? (A caller can
        skip serializing one that would not.)"""
        with self._lock:
            last_ns = self._last_image_ns.get(topic)
            return self._image_period_ns is not None and (
                last_ns is None or log_time_ns - last_ns >= self._image_period_ns
            )

    def message_counts(self) -> dict[str, int]:
        """Messages recorded so far, by topic (declared topics included, at 0)."""
        with self._lock:
            return {
                topic: self._sequence.get(channel_id, 0)
                for topic, (channel_id, _) in self._channels.items()
            }

    def close(self) -> RecordingSummary:
        """Note how the recording went in its metadata and finish the file (idempotent)."""
        with self._lock:
            if self._summary is not None:
                return self._summary
            truncated = self._truncated_at_ns is not None
            try:
                self._writer.add_metadata(
                    RECORDING_METADATA,
                    {
                        "max_bytes": str(self.max_bytes),
                        "image_rate_hz": f"{self.image_rate_hz:g}",
                        "messages": str(self._messages),
                        "payload_bytes": str(self._payload_bytes),
                        "images_skipped": str(self._images_skipped),
                        "truncated": "true" if truncated else "false",
                        "truncated_at_ns": str(self._truncated_at_ns or 0),
                        "error": self._error,
                    },
                )
                self._writer.finish()
            except OSError as exc:
                self._error = self._error or f"{type(exc).__name__}: {exc}"
            finally:
                self._file.close()
            self._summary = RecordingSummary(
                self.path,
                self._messages,
                self._payload_bytes,
                truncated,
                self._truncated_at_ns or 0,
                self._images_skipped,
                self._error,
            )
            return self._summary

    def __enter__(self) -> EpisodeRecorder:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# ------------------------------------------------------------------------ what an episode records
def episode_topics(profile: RobotProfile, assignment: Assignment) -> tuple[RecordedTopic, ...]:
    """The grader's recording of an episode: the robot's topics, the mission, and every topic of
    the required graph. The camera only when the graph reads it: any subscriber makes the
    simulator render every frame, which would slow down episodes that never look at it."""
    image_topic = profile.topics["image"].name
    reads_camera = any(t.topic == image_topic for n in assignment.nodes for t in n.subscribes)
    cmd_vel_type = (
        "geometry_msgs/msg/TwistStamped" if profile.cmd_vel_stamped else "geometry_msgs/msg/Twist"
    )
    topics: dict[str, RecordedTopic] = {}
    for key, topic in profile.topics.items():
        type_name = cmd_vel_type if key == "cmd_vel" else SIM_TOPIC_TYPES.get(key)
        if type_name is not None and (key != "image" or reads_camera):
            topics.setdefault(topic.name, RecordedTopic(topic.name, type_name))
    for name, type_name in (
        (assignment.mission_topic, "geometry_msgs/msg/PoseArray"),
        (MISSION_STEPS_TOPIC, "std_msgs/msg/String"),
    ):
        topics.setdefault(name, RecordedTopic(name, type_name, latched=True))
    if assignment.interventions_topic:
        name = assignment.interventions_topic
        topics.setdefault(name, RecordedTopic(name, "std_msgs/msg/UInt32"))
    for node in assignment.nodes:
        for t in (*node.publishes, *node.subscribes):
            topics.setdefault(t.topic, RecordedTopic(t.topic, t.type))
    return tuple(topics.values())
