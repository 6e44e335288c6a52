"""One rclpy context per grading run, and the in-process simulator + monitor of one episode."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import rclpy
from rclpy.executors import SingleThreadedExecutor

from curriculum_pkg.nodes.grader_monitor_node import GraderMonitor
from curriculum_pkg.nodes.recorder_node import RecorderNode
from curriculum_pkg.recording import EpisodeRecorder, RecordedTopic, RecordingSummary
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
            self.recorder_node = RecorderNode(
                self.recorder,
                record_topics,
                sim_time=lambda: world.time_s,
                context=session.context,
            )
            self._executor.add_node(self.recorder_node)
        self._spin_thread = spin_in_background(self._executor)

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
