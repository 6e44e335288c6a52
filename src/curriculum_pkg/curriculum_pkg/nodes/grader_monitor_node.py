"""rootroute_grader: the grader's own node. It lives in the grader process, next to the bridge.

It publishes the mission, latched: /mission/waypoints (geometry_msgs/PoseArray, odom frame, one
point per task: a station's stop point, a part's centre, a place target) and /mission/steps
(std_msgs/String, the tasks in order, e.g. "pick:bushing place:bushing"). It counts what the student's
required publishers send, introspects the live graph, and finds spoofers.

Spoofing is decided by identity, never by name: `trust_current_publishers()` is called before any
student process exists, so every publisher alive then (the simulator, this node, the platform's
nodes) is trusted by its DDS endpoint GID, and the topics they publish become owned. Afterwards
any other endpoint publishing on an owned topic is a spoofer, whatever node name it borrows. A
publisher that appears and vanishes between two graph checks is still caught: a best-effort,
volatile reader on each owned topic (it matches any writer) counts every publisher it ever
matched, and more than the trusted ones is spoofing. Those readers live on a node of their own
that no executor spins: their data is never wanted (a reader per owned topic would otherwise take
every /clock tick and every scan through Python), and their matched events are collected when
`spoofers()` is asked.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import deque
from collections.abc import Callable

from diagnostic_msgs.msg import KeyValue
from geometry_msgs.msg import Pose, PoseArray
from rclpy.event_handler import SubscriptionEventCallbacks
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import String, UInt32

from curriculum_pkg.assignment import NodeRequirement
from curriculum_pkg.graphcheck import ObservedNode
from sim_pkg.ros.msgdef import MessageTypeError, message_class

# Topics every node may publish on (ROS's own, and the shared diagnostics aggregate).
SHARED_TOPICS = ("/rosout", "/parameter_events", "/diagnostics")
# Bounds on what student topics can make the grader keep.
MAX_REPORT_KEYS = 64  # distinct station keys on /inspection/report
MAX_REPORTS_PER_KEY = 16
MAX_REPORT_CHARS = 200  # a key or a value longer than this is cut
SHIFT_REPORT_TOPIC = "/shift/report"
MAX_SHIFT_REPORTS = 16
MAX_SHIFT_REPORT_CHARS = 2000
MAX_CHECK_INBOX = 4096  # messages for the assignment's checks not yet handed over (oldest dropped)
MAX_TICKS_KEPT = 4096  # control steps remembered to date the checks' messages (~40 s of sim)
UNIDENTIFIED = "(unidentified: a publisher that came and went between two graph checks)"


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
        check_topics: tuple[tuple[str, str], ...] = (),
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
        # Inspection verdicts per station key, (sim time, label) in order of arrival, bounded.
        self._reports: dict[str, list[tuple[float, str]]] = {}
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
        # End-of-shift reports (std_msgs/String: the task names done), the first few, bounded.
        self._shift_reports: list[tuple[float, str]] = []
        self.create_subscription(String, SHIFT_REPORT_TOPIC, self._on_shift_report, 20)
        # The student's answers the assignment's checks read (curriculum_pkg.checks): (topic,
        # message, sim time it arrived, wall time it was sent), handed to the grader's thread by
        # take_check_messages, which tells the sim time it was sent (see note_time).
        self._check_inbox: deque = deque(maxlen=MAX_CHECK_INBOX)
        self._ticks: deque = deque(maxlen=MAX_TICKS_KEPT)  # (wall ns, sim s), by note_time
        for topic, type_name in dict(check_topics).items():
            self.create_subscription(
                message_class(type_name),
                topic,
                lambda msg, info, name=topic: self._check_inbox.append(
                    (name, msg, self._sim_time(), int(info["source_timestamp"]))
                ),
                QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE),
            )
        # Messages per whole second of sim time, per required topic: bounded by the time limit.
        self._counts: dict[str, dict[int, int]] = {}
        # Identity of the platform (see the module docstring), filled by trust_current_publishers.
        self._trusted: dict[str, dict[bytes, str]] = {}  # owned topic -> {endpoint gid: node}
        self._matched: dict[str, int] = {}  # owned topic -> publishers ever matched
        self._watch_node = Node("rootroute_grader_watch", context=self.context)
        self._watch_executor = SingleThreadedExecutor(context=self.context)
        self._watch_executor.add_node(self._watch_node)
        # Best effort subscribers match both reliable and best-effort publishers.
        listen = QoSProfile(depth=50, reliability=ReliabilityPolicy.BEST_EFFORT)
        for req in required:
            for topic in req.publishes:
                self._counts.setdefault(topic.topic, {})
                # raw=True: the bytes are counted, never deserialized, so a flood is still seen
                self.create_subscription(
                    message_class(topic.type),
                    topic.topic,
                    lambda _msg, name=topic.topic: self._count(name),
                    listen,
                    raw=True,
                )

    def _on_report(self, msg: KeyValue) -> None:
        key, value = msg.key[:MAX_REPORT_CHARS], msg.value[:MAX_REPORT_CHARS]
        with self._lock:
            if key not in self._reports and len(self._reports) >= MAX_REPORT_KEYS:
                return
            said = self._reports.setdefault(key, [])
            if len(said) < MAX_REPORTS_PER_KEY:
                said.append((self._sim_time(), value))

    def note_time(self, sim_s: float) -> None:
        """The grader stepped the simulator to `sim_s` now (called every control step while the
        assignment has checks)."""
        self._ticks.append((time.time_ns(), sim_s))

    def _on_shift_report(self, msg: String) -> None:
        with self._lock:
            if len(self._shift_reports) < MAX_SHIFT_REPORTS:
                self._shift_reports.append((self._sim_time(), msg.data[:MAX_SHIFT_REPORT_CHARS]))

    def shift_reports(self) -> list[tuple[float, str]]:
        """The end-of-shift reports kept: (sim time it arrived, text), in order."""
        with self._lock:
            return list(self._shift_reports)

    def take_check_messages(
        self, sent_before_ns: int | None = None
    ) -> list[tuple[str, object, float]]:
        """The checks' messages that came since the last call, in order of arrival, with the sim
        time each was SENT: the step the simulator was at when the sender's DDS stamped it
        (its source timestamp, wall clock), never later than when it arrived here. So a grader
        thread that a busy machine delays does not make a student's answer late.

        `sent_before_ns` (wall clock): messages sent at or after it stay for the next call. The
        grader passes the moment the current step began, so an answer to this step's scan or
        frame is handed over only after the check has seen that scan's truth, however fast it
        came (on a busy machine the grader's thread can be late to look, and the answer would
        find no scan to answer)."""
        if not self._check_inbox:  # most steps: nothing came, no need to copy the ticks
            return []
        taken, held = [], []
        ticks = list(self._ticks)
        walls = [w for w, _ in ticks]
        while self._check_inbox:  # deque.popleft is atomic: the executor may append meanwhile
            item = self._check_inbox.popleft()
            topic, msg, arrived_s, sent_ns = item
            if sent_before_ns is not None and sent_ns >= sent_before_ns:
                held.append(item)
                continue
            # note_time comes after a step (and the graph's turn in it): whatever was sent
            # before that note was sent in that step, at its sim time
            i = bisect.bisect_left(walls, sent_ns)
            sent_s = ticks[i][1] if i < len(ticks) else arrived_s
            taken.append((topic, msg, min(sent_s, arrived_s)))
        self._check_inbox.extendleft(reversed(held))  # before anything that came meanwhile
        return taken

    def check_messages_waiting(self) -> int:
        """How many of the checks' messages have come and not been taken yet (held ones too)."""
        return len(self._check_inbox)

    def reports(self) -> dict[str, list[tuple[float, str]]]:
        """Every inspection report kept, per station key: (sim time it arrived, label)."""
        with self._lock:
            return {key: list(said) for key, said in self._reports.items()}

    def _count(self, topic: str) -> None:
        with self._lock:
            per_second = self._counts[topic]
            second = int(self._sim_time())
            per_second[second] = per_second.get(second, 0) + 1

    def message_counts(self) -> dict[str, int]:
        with self._lock:
            return {topic: sum(counts.values()) for topic, counts in self._counts.items()}

    def rates_hz(self, start_s: float, end_s: float) -> dict[str, float]:
        """Messages per second of sim time between start and end (whole seconds)."""
        span = max(end_s - start_s, 1e-6)
        lo, hi = int(start_s), int(end_s)
        with self._lock:
            return {
                t: sum(n for s, n in counts.items() if lo <= s <= hi) / span
                for t, counts in self._counts.items()
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

    def trust_current_publishers(self, unwatched: tuple[str, ...] = ()) -> dict[str, list[str]]:
        """Trust every publisher that exists now and own the topics they publish (see the module
        docstring). Call it once, before any student process starts. `unwatched`: owned topics
        not to read (the camera: reading it would make the simulator render every frame), which
        are checked by graph polling only. Returns {owned topic: [trusted node names]}."""
        for topic, types in self.get_topic_names_and_types():
            if topic in SHARED_TOPICS:
                continue
            endpoints = self.get_publishers_info_by_topic(topic)
            if not endpoints:
                continue
            self._trusted[topic] = {bytes(e.endpoint_gid): _fqn(e) for e in endpoints}
            if topic in unwatched:
                continue
            try:
                msg_type = message_class(types[0])
            except MessageTypeError:
                continue
            self._matched[topic] = 0
            self._watch_node.create_subscription(
                msg_type,
                topic,
                lambda _msg: None,
                QoSProfile(
                    depth=1,
                    reliability=ReliabilityPolicy.BEST_EFFORT,
                    durability=DurabilityPolicy.VOLATILE,
                ),
                raw=True,
                event_callbacks=SubscriptionEventCallbacks(
                    matched=lambda status, t=topic: self._on_matched(t, status.total_count)
                ),
            )
        return {t: sorted(set(names.values())) for t, names in self._trusted.items()}

    def _on_matched(self, topic: str, total_count: int) -> None:
        with self._lock:
            self._matched[topic] = max(self._matched[topic], total_count)

    def spoofers(self) -> list[tuple[str, str]]:
        """(owned topic, the name the publisher gives) for every publisher on an owned topic that
        is not a trusted endpoint; UNIDENTIFIED for one that was matched and has gone."""
        # Collect the watchers' matched events (and drop what data they hold: depth 1 each).
        for _ in range(len(self._matched) + 1):
            self._watch_executor.spin_once(timeout_sec=0.0)
        found = []
        for topic, trusted in self._trusted.items():
            named = False
            for info in self.get_publishers_info_by_topic(topic):
                if bytes(info.endpoint_gid) not in trusted:
                    found.append((topic, _fqn(info)))
                    named = True
            with self._lock:
                extra = self._matched.get(topic, 0) > len(trusted)
            if extra and not named:
                found.append((topic, UNIDENTIFIED))
        return found

    @property
    def helper_nodes(self) -> tuple[Node, ...]:
        """The monitor's other node (the identity watchers; see the module docstring)."""
        return (self._watch_node,)

    def destroy_node(self) -> None:
        self._watch_executor.shutdown(timeout_sec=1.0)
        self._watch_node.destroy_node()
        super().destroy_node()


def _fqn(info) -> str:
    return info.node_namespace.rstrip("/") + "/" + info.node_name
