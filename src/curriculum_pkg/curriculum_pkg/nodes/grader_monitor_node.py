"""rootroute_grader: the grader's own node. It lives in the grader process, next to the bridge.

It publishes the mission, latched: /mission/waypoints (geometry_msgs/PoseArray, odom frame, one
point per task: a station's stop point, a part's centre, a place target) and /mission/steps
(std_msgs/String, the tasks in order, e.g. "pick:bushing place:bushing"). It counts what the student's
required publishers send, introspects the live graph, and finds spoofers: any other publisher
on a topic the simulator owns (/clock, /odom, /scan, ...).
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable

from diagnostic_msgs.msg import KeyValue
from geometry_msgs.msg import Pose, PoseArray
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import String, UInt32

from curriculum_pkg.assignment import NodeRequirement
from curriculum_pkg.graphcheck import ObservedNode


def message_class(type_name: str):
    """'geometry_msgs/msg/TwistStamped' -> the Python message class (ValueError if unknown)."""
    pkg, _, name = type_name.partition("/msg/")
    try:
        return getattr(importlib.import_module(f"{pkg}.msg"), name)
    except (ImportError, AttributeError):
        raise ValueError(f"unknown message type {type_name}") from None


class GraderMonitor(Node):
    def __init__(
        self,
        mission_topic: str,
        goals_odom: list[tuple[float, float, float]],
        task_labels: list[str],
        odom_frame: str,
        required: tuple[NodeRequirement, ...],
        sim_time: Callable[[], float],
        interventions_topic: str | None = None,
        **node_kwargs,
    ):
        super().__init__("rootroute_grader", **node_kwargs)
        latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self._mission_pub = self.create_publisher(PoseArray, mission_topic, latched)
        mission = PoseArray()
        mission.header.frame_id = odom_frame
        for x, y, z in goals_odom:
            pose = Pose()
            pose.position.x, pose.position.y, pose.position.z = float(x), float(y), float(z)
            pose.orientation.w = 1.0
            mission.poses.append(pose)
        self._mission_pub.publish(mission)
        self._steps_pub = self.create_publisher(String, "/mission/steps", latched)
        self._steps_pub.publish(String(data=" ".join(task_labels)))
        self._sim_time = sim_time
        self._lock = threading.Lock()
        # Inspection verdicts: key = station id, value = label; only the first per station counts.
        self._reports: dict[str, str] = {}
        self.interventions = 0  # the safety mux's latest running count, if the graph has one
        if interventions_topic:
            self.create_subscription(
                UInt32,
                interventions_topic,
                lambda msg: setattr(self, "interventions", int(msg.data)),
                10,
            )
        self.create_subscription(
            KeyValue, "/inspection/report", self._on_report, QoSProfile(depth=20)
        )
        self._stamps: dict[str, list[float]] = {}
        # Best effort subscribers match both reliable and best-effort publishers.
        listen = QoSProfile(depth=50, reliability=ReliabilityPolicy.BEST_EFFORT)
        for req in required:
            for topic in req.publishes:
                self._stamps.setdefault(topic.topic, [])
                # raw=True: the bytes are counted, never deserialized, so a flood is still seen
                self.create_subscription(
                    message_class(topic.type),
                    topic.topic,
                    lambda _msg, name=topic.topic: self._count(name),
                    listen,
                    raw=True,
                )

    def _on_report(self, msg: KeyValue) -> None:
        with self._lock:
            self._reports.setdefault(msg.key, msg.value)

    def first_reports(self) -> dict[str, str]:
        with self._lock:
            return dict(self._reports)

    def _count(self, topic: str) -> None:
        with self._lock:
            self._stamps[topic].append(self._sim_time())

    def message_counts(self) -> dict[str, int]:
        with self._lock:
            return {topic: len(stamps) for topic, stamps in self._stamps.items()}

    def rates_hz(self, start_s: float, end_s: float) -> dict[str, float]:
        """Messages per second of sim time between start and end."""
        span = max(end_s - start_s, 1e-6)
        with self._lock:
            return {
                t: sum(start_s <= s <= end_s for s in stamps) / span
                for t, stamps in self._stamps.items()
            }

    def observe_graph(self) -> dict[str, ObservedNode]:
        observed = {}
        for name, ns in self.get_node_names_and_namespaces():
            fqn = ns.rstrip("/") + "/" + name
            try:
                pubs = self.get_publisher_names_and_types_by_node(name, ns)
                subs = self.get_subscriber_names_and_types_by_node(name, ns)
            except Exception:  # the node left between the two calls
                continue
            observed[fqn] = ObservedNode(
                fqn, {t: tuple(types) for t, types in pubs}, {t: tuple(types) for t, types in subs}
            )
        return observed

    def spoofers(self, owned_topics: list[str], owner: str) -> list[tuple[str, str]]:
        """(topic, node) for every publisher on a sim-owned topic that is not the simulator."""
        found = []
        for topic in owned_topics:
            for info in self.get_publishers_info_by_topic(topic):
                fqn = info.node_namespace.rstrip("/") + "/" + info.node_name
                if fqn != owner:
                    found.append((topic, fqn))
        return found
