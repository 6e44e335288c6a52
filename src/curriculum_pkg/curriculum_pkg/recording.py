"""Episode recordings: ROS 2 bags in MCAP (profile "ros2", "cdr" messages, "ros2msg" schemas).

ROS-free: the recorder takes the CDR bytes a raw subscription delivers, so the grader, the
standalone recorder node (nodes/recorder_node.py) and the tests share it. The files open in
`ros2 bag play`, `ros2 bag info` and Foxglove. Bounded: camera images at most `image_rate_hz`,
and nothing more after `max_bytes` of message data (noted in the file's metadata).
"""

from __future__ import annotations

import importlib.metadata
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mcap.well_known import MessageEncoding, Profile, SchemaEncoding
from mcap.writer import CompressionType, Writer

from common_pkg.distro import cmd_vel_type_name
from common_pkg.errors import LocatedError
from sim_pkg.ros.msgdef import MessageTypeError, message_definition

if TYPE_CHECKING:
    from common_pkg.profile import RobotProfile
    from curriculum_pkg.assignment import Assignment

DEFAULT_MAX_BYTES = 200 * 1024 * 1024
DEFAULT_IMAGE_RATE_HZ = 1.0  # 640x480 rgb8 at 15 Hz would be 14 MB per second of episode
CHUNK_SIZE_BYTES = 1024 * 1024
IMAGE_TYPES = frozenset({"sensor_msgs/msg/Image", "sensor_msgs/msg/CompressedImage"})
EPISODE_METADATA = "rootroute.episode"
RECORDING_METADATA = "rootroute.recording"
# Written by the grader into the file only, never published on DDS: what `rootroute view` shows.
WORLD_METADATA = "rootroute.world"  # {"floor_plan": JSON (sim_pkg.liveview.scene), "odom_origin"}
GROUND_TRUTH_TOPIC = "/rootroute/ground_truth"  # geometry_msgs/msg/PoseStamped, world frame
GROUND_TRUTH_PERIOD_S = 0.1  # sim time
EVENTS_TOPIC = "/rootroute/events"  # std_msgs/msg/String: JSON {kind, t_s, en, ko}

# The types SimBridge publishes and takes (sim_pkg/nodes/bridge_node.py), by profile topic key;
# /cmd_vel depends on the profile's ROS distribution (common_pkg.distro).
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

    def add_metadata(self, name: str, data: Mapping[str, str]) -> None:
        """One more metadata record (name -> string values), e.g. WORLD_METADATA."""
        with self._lock:
            if self._summary is None and not self._error:
                self._writer.add_metadata(name, {k: str(v) for k, v in data.items()})

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
            try:
                definition = message_definition(type_name)
            except MessageTypeError as err:
                raise RecordingError(err.location, err.en, err.ko) from None
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
    cmd_vel_type = cmd_vel_type_name(profile.ros_distro)
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
