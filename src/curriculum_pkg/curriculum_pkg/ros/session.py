"""One rclpy context per grading run, and the in-process simulator + monitor of one episode."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.serialization import serialize_message

from curriculum_pkg.nodes.grader_monitor_node import GraderMonitor
from curriculum_pkg.nodes.recorder_node import RecorderNode
from curriculum_pkg.recording import (
    IMAGE_TYPES,
    EpisodeRecorder,
    RecordedTopic,
    RecordingSummary,
)
from sim_pkg.dds import use_camera_transport
from sim_pkg.nodes.bridge_node import SimBridge, run_paced, spin_in_background
from sim_pkg.world import SimWorld

__all__ = ["RosSession", "SimEpisode", "run_paced"]


class RosSession:
    """An rclpy context on the run's leased ROS domain (discovery range comes from the env)."""

    def __init__(self, domain_id: int):
        use_camera_transport()  # the bridge in this process publishes camera frames
        self.context = rclpy.Context()
        rclpy.init(context=self.context, domain_id=domain_id)

    def close(self) -> None:
        if self.context.ok():
            rclpy.shutdown(context=self.context)

    def __enter__(self) -> RosSession:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class SimEpisode:
    """The bridge and the grader's monitor for one episode, served on a background thread."""

    def __init__(
        self,
        session: RosSession,
        world: SimWorld,
        monitor_args: dict,
        record_to: Path | None = None,
        record_topics: Iterable[RecordedTopic] = (),
        record_info: Mapping[str, str] | None = None,
    ):
        """`record_to`: write an MCAP bag of `record_topics` there, in sim time, with
        `record_info` (scenario, variant, seed, ...) as its metadata; `recording` after close()."""
        self.world = world
        self.bridge = SimBridge(world, context=session.context)
        self.monitor = GraderMonitor(
            sim_time=lambda: world.time_s, context=session.context, **monitor_args
        )
        self._executor = SingleThreadedExecutor(context=session.context)
        self._executor.add_node(self.bridge)
        self._executor.add_node(self.monitor)
        # The episode's MCAP bag (curriculum_pkg/recording.py), in sim time.
        self.recording: RecordingSummary | None = None
        self.recorder: EpisodeRecorder | None = None
        self.recorder_node: RecorderNode | None = None
        if record_to is not None:
            self.recorder = EpisodeRecorder(record_to, record_info)
            # What the bridge publishes is recorded as it publishes it; the rest (the graph's
            # topics, the mission) through subscriptions.
            own = {
                pub.topic_name: pub
                for pub in self.bridge.publishers
                if pub.topic_name not in ("/rosout", "/parameter_events")
            }
            tapped = {t.topic: t.type_name for t in record_topics if t.topic in own}
            for topic, type_name in tapped.items():
                self.recorder.add_topic(topic, type_name)
            self.bridge.tap = lambda topic, msg, t_ns: self._record(tapped, topic, msg, t_ns)
            self.recorder_node = RecorderNode(
                self.recorder,
                [t for t in record_topics if t.topic not in tapped],
                sim_time=lambda: world.time_s,
                context=session.context,
            )
            self._executor.add_node(self.recorder_node)
        self._spin_thread = spin_in_background(self._executor)

    def _record(self, tapped: dict[str, str], topic: str, msg, t_ns: int) -> None:
        type_name = tapped.get(topic)
        if type_name is None:
            return
        if type_name in IMAGE_TYPES and not self.recorder.image_due(topic, t_ns):
            self.recorder.write(topic, type_name, b"", t_ns)  # counted as skipped
            return
        self.recorder.write(topic, type_name, serialize_message(msg), t_ns)

    def unmatched(self) -> list[str]:
        """Topics on which one of the grader's endpoints has not yet matched every endpoint the
        graph shows: DDS discovery is still going on (it runs in wall time, and a lockstep
        episode must not start its clock before the graph can hear it)."""
        late = []
        nodes = [self.bridge, self.monitor, *self.monitor.helper_nodes]
        if self.recorder_node is not None:
            nodes.append(self.recorder_node)
        own_readers = Counter(sub.topic_name for node in nodes for sub in node.subscriptions)
        for node in nodes:
            for pub in node.publishers:
                # A process's own clock channel has its subscriber from the moment the process
                # exists (use_sim_time), even before the graph view shows it.
                least = own_readers[pub.topic_name] + (pub in self.bridge.clock_channels)
                if pub.get_subscription_count() < max(
                    least, node.count_subscribers(pub.topic_name)
                ):
                    late.append(pub.topic_name)
            for sub in node.subscriptions:
                if sub.get_publisher_count() < node.count_publishers(sub.topic_name):
                    late.append(sub.topic_name)
        return late

    @property
    def bridge_name(self) -> str:
        return self.bridge.get_fully_qualified_name()

    def close(self) -> None:
        self._executor.shutdown(timeout_sec=2.0)
        self._spin_thread.join(timeout=5.0)
        self.bridge.destroy_node()
        self.monitor.destroy_node()
        if self.recorder is not None:  # after the executor: no callback writes any more
            self.recording = self.recorder.close()
            self.recorder_node.destroy_node()
        self.world.close()
