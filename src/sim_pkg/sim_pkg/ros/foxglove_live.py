"""Foxglove live view of the embedded simulator: a Foxglove WebSocket server (foxglove-sdk).

`rootroute sim SCENARIO --foxglove-port 8766`, then in Foxglove: Open connection -> Foxglove
WebSocket -> ws://localhost:8766. Channels:

- the bridge's own topics (/clock, /scan, /odom, /joint_states, /camera/...) as ROS 2 channels,
  CDR bytes with their ros2msg definition, so Foxglove's ROS panels read them as from a robot.
  They come from `SimBridge.tap`, not through a DDS subscription;
- the student's visual topics (FOLLOWED_TYPES: paths, poses, markers, maps, /cmd_vel), found
  in the ROS graph every second and forwarded as they arrive, still serialized;
- /rootroute/scene: the floor plan (walls, obstacles, zones, stations) as a foxglove.SceneUpdate
  in the frame "world";
- /rootroute/true_pose: the robot's true pose in "world" (foxglove.PoseInFrame);
- /rootroute/tf: world -> odom -> base_footprint -> lidar frame (foxglove.FrameTransforms), so
  the 3D panel places the scan, the odometry and the student's odom-frame paths on the plan.

A development tool: it shows ground truth, so the grader never starts it. It binds to
localhost only. Message times are simulation times (the server advertises the time capability).
"""

from __future__ import annotations

import math
import threading
from functools import partial

import foxglove
from foxglove import Channel, Schema
from foxglove.channels import FrameTransformsChannel, PoseInFrameChannel, SceneUpdateChannel
from foxglove.messages import (
    Color,
    CubePrimitive,
    FrameTransform,
    FrameTransforms,
    Pose,
    PoseInFrame,
    Quaternion,
    SceneEntity,
    SceneUpdate,
    TextPrimitive,
    Timestamp,
    Vector3,
)
from foxglove.websocket import Capability
from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rclpy.serialization import serialize_message

from common_pkg.profile import RobotProfile
from common_pkg.worldspec import Block, Pose2D, WorldSpec
from sim_pkg.mjcf import STATION_POST_SIZE_M, ZONE_RGBA
from sim_pkg.ros.msgdef import (
    MessageTypeError,
    message_class,
    message_definition,
    type_name_of,
)
from sim_pkg.world import SimWorld

WORLD_FRAME = "world"
SCENE_TOPIC = "/rootroute/scene"
TRUE_POSE_TOPIC = "/rootroute/true_pose"
TF_TOPIC = "/rootroute/tf"
SCENE_PERIOD_S = 1.0  # sim time between repeats of the (static) scene, for late subscribers
DISCOVERY_PERIOD_S = 1.0  # wall time between looks at the graph for the student's topics
# What a student publishes to show its thinking, plus the base commands.
FOLLOWED_TYPES = frozenset(
    {
        "nav_msgs/msg/Path",
        "nav_msgs/msg/OccupancyGrid",
        "geometry_msgs/msg/PoseArray",
        "geometry_msgs/msg/PoseStamped",
        "geometry_msgs/msg/PointStamped",
        "geometry_msgs/msg/Twist",
        "geometry_msgs/msg/TwistStamped",
        "visualization_msgs/msg/Marker",
        "visualization_msgs/msg/MarkerArray",
    }
)
WALL_RGBA = (0.72, 0.72, 0.70, 1.0)
FLOOR_RGBA = (0.62, 0.64, 0.60, 1.0)
STATION_RGBA = (0.95, 0.8, 0.1, 1.0)
LABEL_RGBA = (1.0, 1.0, 1.0, 1.0)


# ------------------------------------------------------------------------ the scene (no ROS)
def timestamp(t_ns: int) -> Timestamp:
    return Timestamp(t_ns // 1_000_000_000, t_ns % 1_000_000_000)


def yaw_quaternion(yaw_rad: float) -> Quaternion:
    return Quaternion(x=0.0, y=0.0, z=math.sin(yaw_rad / 2.0), w=math.cos(yaw_rad / 2.0))


def _color(rgba) -> Color:
    return Color(r=rgba[0], g=rgba[1], b=rgba[2], a=rgba[3])


def _box(x: float, y: float, z: float, size_xyz, yaw_rad: float, rgba) -> CubePrimitive:
    return CubePrimitive(
        pose=Pose(position=Vector3(x=x, y=y, z=z), orientation=yaw_quaternion(yaw_rad)),
        size=Vector3(x=size_xyz[0], y=size_xyz[1], z=size_xyz[2]),
        color=_color(rgba),
    )


def _block(block: Block) -> CubePrimitive:
    size = (*block.size_xy, block.height_m)
    return _box(*block.center_xy, block.height_m / 2, size, block.yaw_rad, block.rgba)


def _label(x: float, y: float, z: float, text: str) -> TextPrimitive:
    return TextPrimitive(
        pose=Pose(position=Vector3(x=x, y=y, z=z), orientation=yaw_quaternion(0.0)),
        billboard=True,
        font_size=14.0,
        scale_invariant=True,
        color=_color(LABEL_RGBA),
        text=text,
    )


def scene_update(spec: WorldSpec, t_ns: int = 0) -> SceneUpdate:
    """The scenario's floor plan in the world frame, one entity per kind of thing."""
    lx, ly = spec.floor_size_xy
    post_h = STATION_POST_SIZE_M[2]

    def entity(name: str, **primitives) -> SceneEntity:
        return SceneEntity(timestamp=timestamp(t_ns), frame_id=WORLD_FRAME, id=name, **primitives)

    zones = [
        _box(
            *z.center_xy,
            0.002,
            (*z.size_xy, 0.004),
            0.0,
            tuple(map(float, ZONE_RGBA[z.kind].split())),
        )
        for z in spec.zones
    ]
    stations = [
        _box(*s.panel_xy, post_h / 2, STATION_POST_SIZE_M, s.facing_rad, STATION_RGBA)
        for s in spec.stations
    ]
    return SceneUpdate(
        entities=[
            entity("floor", cubes=[_box(lx / 2, ly / 2, -0.005, (lx, ly, 0.01), 0.0, FLOOR_RGBA)]),
            entity("walls", cubes=[_block(b) for b in spec.walls]),
            entity("obstacles", cubes=[_block(b) for b in spec.obstacles]),
            entity(
                "zones",
                cubes=zones,
                texts=[_label(*z.center_xy, 0.05, f"{z.kind}: {z.name_en}") for z in spec.zones],
            ),
            entity(
                "stations",
                cubes=stations,
                texts=[
                    _label(*s.panel_xy, post_h + 0.1, f"{s.id} {s.name_en} (marker {s.marker_id})")
                    for s in spec.stations
                ],
            ),
        ]
    )


def _transform(t_ns: int, parent: str, child: str, xyz, yaw_rad: float) -> FrameTransform:
    return FrameTransform(
        timestamp=timestamp(t_ns),
        parent_frame_id=parent,
        child_frame_id=child,
        translation=Vector3(x=xyz[0], y=xyz[1], z=xyz[2]),
        rotation=yaw_quaternion(yaw_rad),
    )


def lidar_in_footprint(profile: RobotProfile) -> tuple[float, float, float]:
    """The lidar's position in base_footprint: its mount on base_link, raised by base_link."""
    x, y, z = profile.raw["lidar"]["mount_xyz_m"]
    return (x, y, z + profile.raw["base"]["base_link_height_m"])


# ------------------------------------------------------------------------------ the server
class FoxgloveLive:
    """The WebSocket server and its channels. `on_bridge_message` runs on the simulation
    thread (it reads the world's ground truth there); `forward` may run on any thread."""

    def __init__(self, world: SimWorld, port: int, host: str = "127.0.0.1"):
        self.world = world
        profile = world.profile
        self._clock_topic = profile.topics["clock"].name
        self._odom_topic = profile.topics["odom"].name
        self._lidar_xyz = lidar_in_footprint(profile)
        self._lock = threading.Lock()
        self._channels: dict[str, tuple[str, Channel]] = {}  # topic -> (type name, channel)
        self._last_t_ns = 0
        self._scene_due_ns = 0
        self.context = foxglove.Context()
        self.server = foxglove.start_server(
            name="Root&Route sim",
            host=host,
            port=port,
            capabilities=[Capability.Time],
            supported_encodings=["cdr"],
            context=self.context,
        )
        self._scene = SceneUpdateChannel(SCENE_TOPIC, context=self.context)
        self._true_pose = PoseInFrameChannel(TRUE_POSE_TOPIC, context=self.context)
        self._tf = FrameTransformsChannel(TF_TOPIC, context=self.context)

    @property
    def port(self) -> int:
        return self.server.port

    def close(self) -> None:
        self.server.stop()

    def ros_channel(self, topic: str, type_name: str) -> Channel:
        """The ROS 2 channel of a topic (cdr, ros2msg), advertised on first use."""
        with self._lock:
            known = self._channels.get(topic)
            if known is None or known[0] != type_name:
                if known is not None:  # a topic that changed type: advertise it anew
                    known[1].close()
                schema = Schema(
                    name=type_name,
                    encoding="ros2msg",
                    data=message_definition(type_name).encode("utf-8"),
                )
                channel = Channel(
                    topic, schema=schema, message_encoding="cdr", context=self.context
                )
                known = self._channels[topic] = (type_name, channel)
            return known[1]

    def forward(self, topic: str, type_name: str, cdr: bytes, t_ns: int | None = None) -> None:
        """Send one serialized message on its ROS 2 channel (at the latest sim time if no time
        is given: the student's messages arrive between two clock ticks)."""
        channel = self.ros_channel(topic, type_name)
        channel.log(bytes(cdr), log_time=self._last_t_ns if t_ns is None else t_ns)

    def on_bridge_message(self, topic: str, msg, t_ns: int) -> None:
        """A SimBridge tap: every message the bridge publishes, at sim time `t_ns`."""
        self._last_t_ns = t_ns
        channel = self.ros_channel(topic, type_name_of(type(msg)))
        if channel.has_sinks():  # serializing is the cost; skip it while nobody watches
            channel.log(serialize_message(msg), log_time=t_ns)
        if topic == self._clock_topic:
            self.server.broadcast_time(t_ns)
            if t_ns >= self._scene_due_ns:
                self._scene.log(scene_update(self.world.spec, t_ns), log_time=t_ns)
                self._scene_due_ns = t_ns + round(SCENE_PERIOD_S * 1e9)
        elif topic == self._odom_topic:
            self._publish_ground_truth(msg, t_ns)

    def _publish_ground_truth(self, odom, t_ns: int) -> None:
        pose: Pose2D = self.world.true_pose()
        self._true_pose.log(
            PoseInFrame(
                timestamp=timestamp(t_ns),
                frame_id=WORLD_FRAME,
                pose=Pose(
                    position=Vector3(x=pose.x, y=pose.y, z=0.0),
                    orientation=yaw_quaternion(pose.yaw),
                ),
            ),
            log_time=t_ns,
        )
        origin = self.world.odom_origin()
        p, q = odom.pose.pose.position, odom.pose.pose.orientation
        odom_yaw = 2.0 * math.atan2(q.z, q.w)  # the bridge's odometry only turns about z
        self._tf.log(
            FrameTransforms(
                transforms=[
                    _transform(
                        t_ns,
                        WORLD_FRAME,
                        odom.header.frame_id,
                        (origin.x, origin.y, 0.0),
                        origin.yaw,
                    ),
                    _transform(
                        t_ns, odom.header.frame_id, odom.child_frame_id, (p.x, p.y, 0.0), odom_yaw
                    ),
                    _transform(
                        t_ns,
                        odom.child_frame_id,
                        self.world.profile.lidar_frame_id,
                        self._lidar_xyz,
                        0.0,
                    ),
                ]
            ),
            log_time=t_ns,
        )


# ------------------------------------------------------------------- the student's topics
class StudentTopicFollower:
    """Subscribes (raw, on `node`) to every topic of a FOLLOWED_TYPES type that appears in the
    graph, except `skip`, and forwards its messages to the live view as they come."""

    def __init__(self, node: Node, live: FoxgloveLive, skip: set[str]):
        self._node = node
        self._live = live
        self._skip = skip
        self._followed: set[str] = set()
        self._timer = node.create_timer(
            DISCOVERY_PERIOD_S, self.discover, clock=Clock(clock_type=ClockType.STEADY_TIME)
        )

    def discover(self) -> None:
        for topic, types in self._node.get_topic_names_and_types():
            if topic in self._followed or topic in self._skip or len(types) != 1:
                continue
            if types[0] in FOLLOWED_TYPES:
                try:
                    self._follow(topic, types[0])
                except MessageTypeError as err:  # an interface package this install lacks
                    self._followed.add(topic)
                    self._node.get_logger().warning(f"Foxglove: not showing {topic}: {err}")

    def _follow(self, topic: str, type_name: str) -> None:
        publishers = self._node.get_publishers_info_by_topic(topic)
        # A latched topic (a map, a plan sent once) only replays to a transient-local reader,
        # and a transient-local reader only matches transient-local writers.
        latched = bool(publishers) and all(
            p.qos_profile.durability == DurabilityPolicy.TRANSIENT_LOCAL for p in publishers
        )
        qos = QoSProfile(
            depth=10,
            reliability=ReliabilityPolicy.BEST_EFFORT,  # matches reliable writers too
            durability=DurabilityPolicy.TRANSIENT_LOCAL if latched else DurabilityPolicy.VOLATILE,
        )
        message_type = message_class(type_name)
        self._live.ros_channel(topic, type_name)  # advertised now, before its first message
        self._node.create_subscription(
            message_type,
            topic,
            partial(self._live.forward, topic, type_name),
            qos,
            raw=True,
        )
        self._followed.add(topic)


def serve_foxglove(bridge, port: int) -> FoxgloveLive:
    """Start the live view next to a SimBridge: its tap (chained after any tap already set) and
    a follower of the student's topics on its node. Call `close()` on the result at the end."""
    live = FoxgloveLive(bridge.world, port)
    previous_tap = bridge.tap

    def tap(topic: str, msg, t_ns: int) -> None:
        if previous_tap is not None:
            previous_tap(topic, msg, t_ns)
        live.on_bridge_message(topic, msg, t_ns)

    bridge.tap = tap
    skip = {t.name for key, t in bridge.profile.topics.items() if key != "cmd_vel"}
    StudentTopicFollower(bridge, live, skip)
    return live
