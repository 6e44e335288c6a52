"""Feeds the live view (sim_pkg.liveview) from a running SimBridge: the simulator's state, and
whatever paths, pose arrays and markers the student's nodes publish.

    feed = LiveFeed(bridge, LiveView(world.spec, port))
    url = feed.start()
    run_paced(bridge, until_s, on_step=feed.on_step, pacer=feed.pacer)
    feed.stop()

The student's topics are found by type every DISCOVERY_PERIOD_S (`get_topic_names_and_types`)
and subscribed on the fly, with QoS that matches their publishers. Their frames are drawn in the
world: `map` (and `world`, or none) is the scenario's frame (planning_pkg's map node serves the
scenario in it), the odom frame starts at the robot's true start pose, the robot's own frames
follow its true pose.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

import numpy as np
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

from common_pkg.worldspec import Pose2D
from sim_pkg.liveview.pacing import SteerablePacer
from sim_pkg.liveview.scene import lidar_pose, scan_points
from sim_pkg.liveview.server import LiveView

PUSH_HZ = 15.0  # states sent to the page per wall second, at most
DISCOVERY_PERIOD_S = 2.0
MAX_OVERLAY_POINTS = 2000  # per message: a long path is thinned to this many points
WORLD_FRAMES = ("", "map", "world")
MARKER_SHAPES = {
    0: "arrow",
    1: "box",
    2: "circle",
    3: "circle",
    4: "strip",
    5: "lines",
    6: "points",
    7: "points",
    8: "points",
    9: "text",
    11: "points",  # TRIANGLE_LIST: its corners
}
MARKER_DELETE, MARKER_DELETEALL = 2, 3


def _visual_types() -> dict[str, type]:
    from geometry_msgs.msg import PoseArray
    from nav_msgs.msg import Path

    types = {"nav_msgs/msg/Path": Path, "geometry_msgs/msg/PoseArray": PoseArray}
    try:  # an interface package of the full install and the wheels; guarded all the same
        from visualization_msgs.msg import Marker, MarkerArray

        types["visualization_msgs/msg/Marker"] = Marker
        types["visualization_msgs/msg/MarkerArray"] = MarkerArray
    except ImportError:
        pass
    return types


def yaw_of(q) -> float:
    """Yaw (rad) of a geometry_msgs Quaternion, about z."""
    return math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z))


def compose(frame: Pose2D, pose) -> Pose2D:
    """A geometry_msgs Pose given in `frame`, as a Pose2D in the frame's parent."""
    x, y = frame.transform_point((pose.position.x, pose.position.y))
    return Pose2D(float(x), float(y), frame.yaw + yaw_of(pose.orientation))


def _hex(color) -> str:
    rgba = [max(0, min(255, round(c * 255))) for c in (color.r, color.g, color.b, color.a)]
    if rgba[3] == 0:  # an unset colour: opaque
        rgba[3] = 255
    return "#" + "".join(f"{c:02x}" for c in rgba)


def _thin(points: list) -> list:
    step = max(1, math.ceil(len(points) / MAX_OVERLAY_POINTS))
    return points[::step] if step > 1 else points


class LiveFeed:
    """Glue between a SimBridge (its node, world and tap) and a LiveView."""

    def __init__(
        self,
        bridge,
        view: LiveView,
        progress: Callable[[], dict | None] = lambda: None,
    ):
        """`progress`: the task-progress line ({"ko", "en"}), e.g. from the grader's judge."""
        self.bridge, self.view, self.world = bridge, view, bridge.world
        self._progress = progress
        p = bridge.profile
        self._robot_frames = {p.base_frame_id, p.lidar_frame_id, "base_link", p.camera_frame_id}
        self._lidar_x_m = float(p.raw["lidar"]["mount_xyz_m"][0])  # behind the base's centre
        self._types = _visual_types()
        self._subscribed: set[str] = set()
        self._overlays: dict[tuple, dict] = {}  # (topic, ns, id) -> drawn item
        self._overlays_lock = threading.Lock()  # written by the executor, read by the loop
        self._scan = None
        self._last_push = -math.inf
        self._previous_tap = bridge.tap
        bridge.tap = self._tap
        self.pacer = SteerablePacer(
            view.commands, self.world.time_s, while_paused=self.push, should_stop=self._stopping
        )
        self._timer = bridge.create_timer(DISCOVERY_PERIOD_S, self.discover)

    def start(self) -> str:
        return self.view.start()

    def stop(self) -> None:
        self.bridge.destroy_timer(self._timer)
        self.bridge.tap = self._previous_tap
        self.view.stop()

    def _stopping(self) -> bool:
        return not self.bridge.context.ok() or self.view.closing.is_set()

    # ------------------------------------------------------------------ the simulation loop
    def _tap(self, topic: str, msg, t_ns: int) -> None:
        if self._previous_tap is not None:
            self._previous_tap(topic, msg, t_ns)
        topics = self.bridge.profile.topics
        if topic == topics["scan"].name:
            self._scan = msg
        elif topic == topics["image"].name and self.view.camera_due():
            frame = np.frombuffer(bytes(msg.data), np.uint8).reshape(msg.height, msg.width, 3)
            self.view.set_camera_rgb(frame)

    def on_step(self) -> None:
        """Called after every step of the simulation (run_paced's on_step): cheap unless a
        browser is connected and a push is due."""
        if not self.view.clients or time.monotonic() - self._last_push < 1.0 / PUSH_HZ:
            return
        self.push()

    def push(self) -> None:
        self._last_push = time.monotonic()
        world = self.world
        true_pose = world.true_pose()
        odom = world.odometry()
        odom_world = self._odom_frame().transform_point((odom.x, odom.y))
        scan_xy = None
        if self._scan is not None:
            s = self._scan
            sensor = lidar_pose(true_pose, self._lidar_x_m)
            ranges = np.asarray(s.ranges, dtype=np.float32)
            scan_xy = scan_points(ranges, s.angle_min, s.angle_increment, sensor, s.range_max)
        self.view.update(
            world.time_s,
            true_pose,
            Pose2D(float(odom_world[0]), float(odom_world[1]), self._odom_frame().yaw + odom.yaw),
            scan_xy=scan_xy,
            overlays=self._overlay_list(),
            progress=self._progress(),
            achieved_speed=self.pacer.achieved_factor,
        )

    def _odom_frame(self) -> Pose2D:
        return self.world.odom_origin()

    # ------------------------------------------------------------------ the student's topics
    def discover(self) -> None:
        """Subscribe to every new Path, PoseArray, Marker and MarkerArray topic (bridge's
        executor thread)."""
        for topic, type_names in self.bridge.get_topic_names_and_types():
            type_name = next((t for t in type_names if t in self._types), None)
            if type_name is None or topic in self._subscribed:
                continue
            self._subscribed.add(topic)
            self.bridge.create_subscription(
                self._types[type_name],
                topic,
                lambda msg, topic=topic, kind=type_name: self._on_visual(topic, kind, msg),
                self._qos_for(topic),
            )

    def _qos_for(self, topic: str) -> QoSProfile:
        """Reliable and transient-local only where every publisher is (so that a latched path
        arrives, and a best-effort publisher still matches)."""
        infos = self.bridge.get_publishers_info_by_topic(topic)
        reliable = all(i.qos_profile.reliability == ReliabilityPolicy.RELIABLE for i in infos)
        latched = infos and all(
            i.qos_profile.durability == DurabilityPolicy.TRANSIENT_LOCAL for i in infos
        )
        return QoSProfile(
            depth=10,
            reliability=ReliabilityPolicy.RELIABLE if reliable else ReliabilityPolicy.BEST_EFFORT,
            durability=DurabilityPolicy.TRANSIENT_LOCAL if latched else DurabilityPolicy.VOLATILE,
        )

    def _frame(self, frame_id: str) -> Pose2D | None:
        frame_id = frame_id.lstrip("/")
        if frame_id in WORLD_FRAMES:
            return Pose2D(0.0, 0.0, 0.0)
        if frame_id == self.bridge.profile.odom_frame_id:
            return self._odom_frame()
        if frame_id in self._robot_frames:
            return self.world.true_pose()
        return None  # a frame the view does not know: drawn as if it were the map

    def _on_visual(self, topic: str, kind: str, msg) -> None:
        if kind == "nav_msgs/msg/Path":
            frame = self._frame(msg.header.frame_id) or Pose2D(0.0, 0.0, 0.0)
            pts = [list(frame.transform_point(_xy(p.pose.position))) for p in msg.poses]
            self._put((topic,), {"topic": topic, "shape": "strip", "points": _round(_thin(pts))})
        elif kind == "geometry_msgs/msg/PoseArray":
            frame = self._frame(msg.header.frame_id) or Pose2D(0.0, 0.0, 0.0)
            poses = [compose(frame, p) for p in msg.poses[:MAX_OVERLAY_POINTS]]
            self._put(
                (topic,),
                {
                    "topic": topic,
                    "shape": "poses",
                    "points": _round([[p.x, p.y, p.yaw] for p in poses]),
                },
            )
        elif kind == "visualization_msgs/msg/MarkerArray":
            for marker in msg.markers:
                self._on_marker(topic, marker)
        else:
            self._on_marker(topic, msg)

    def _on_marker(self, topic: str, m) -> None:
        if m.action == MARKER_DELETEALL:
            with self._overlays_lock:
                for key in [k for k in self._overlays if k[0] == topic]:
                    del self._overlays[key]
            return
        key = (topic, m.ns, m.id)
        if m.action == MARKER_DELETE or m.type not in MARKER_SHAPES:
            with self._overlays_lock:
                self._overlays.pop(key, None)
            return
        frame = self._frame(m.header.frame_id) or Pose2D(0.0, 0.0, 0.0)
        pose = compose(frame, m.pose)
        pts = [list(pose.transform_point(_xy(p))) for p in m.points[:MAX_OVERLAY_POINTS]]
        self._put(
            key,
            {
                "topic": topic,
                "shape": MARKER_SHAPES[m.type],
                "pose": [round(v, 3) for v in (pose.x, pose.y, pose.yaw)],
                "size": [m.scale.x, m.scale.y],
                "points": _round(pts) if pts else [],
                "color": _hex(m.color),
                "text": m.text[:80],
            },
        )

    def _put(self, key: tuple, item: dict) -> None:
        with self._overlays_lock:
            self._overlays[key] = item

    def _overlay_list(self) -> list[dict]:
        with self._overlays_lock:
            return list(self._overlays.values())


def _xy(point) -> tuple[float, float]:
    return (point.x, point.y)


def _round(points: list) -> list:
    return [[round(float(v), 3) for v in p] for p in points]
