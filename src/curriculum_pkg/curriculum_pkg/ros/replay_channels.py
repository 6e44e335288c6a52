"""What the grader adds to an episode's MCAP for `rootroute view`, and nowhere else: the floor
plan, the robot's true pose (at most every GROUND_TRUTH_PERIOD_S of sim time) and the task
events. Written straight into the file, never published on DDS, so no student process can read
or spoof them."""

from __future__ import annotations

import json
import math

from geometry_msgs.msg import PoseStamped
from rclpy.serialization import serialize_message
from std_msgs.msg import String

from curriculum_pkg.episode import EpisodeEvent
from curriculum_pkg.recording import (
    EVENTS_TOPIC,
    GROUND_TRUTH_PERIOD_S,
    GROUND_TRUTH_TOPIC,
    WORLD_METADATA,
    EpisodeRecorder,
)
from sim_pkg.liveview.scene import actor_track, floor_plan, pose_json

POSE_TYPE = "geometry_msgs/msg/PoseStamped"
EVENT_TYPE = "std_msgs/msg/String"
WORLD_FRAME = "world"  # the scenario's frame: planning_pkg serves its map in it as "map"


class ReplayChannels:
    def __init__(self, recorder: EpisodeRecorder, world, scenario):
        """`world`: the episode's SimWorld; `scenario`: the variant it runs."""
        self.recorder, self.world = recorder, world
        recorder.add_topic(GROUND_TRUTH_TOPIC, POSE_TYPE)
        recorder.add_topic(EVENTS_TOPIC, EVENT_TYPE)
        recorder.add_metadata(
            WORLD_METADATA,
            {
                "floor_plan": json.dumps(floor_plan(scenario.world), ensure_ascii=False),
                "odom_origin": json.dumps(pose_json(world.odom_origin())),
                "title_ko": scenario.title["ko"],
                "title_en": scenario.title["en"],
                "tasks": str(len(scenario.tasks)),
                "actor_track": json.dumps(actor_track(scenario.world, scenario.time_limit_s)),
            },
        )
        self._truth_due_s = -math.inf
        self._interventions = 0

    def record(self, t_s: float, events: list[EpisodeEvent], interventions: int) -> None:
        """Called every step: the judge's new events, a safety-mux intervention when its count
        went up, and the true pose when one is due."""
        t_ns = round(t_s * 1e9)
        if interventions > self._interventions:
            self._interventions = interventions
            events = [
                *events,
                EpisodeEvent(
                    "mux_intervention",
                    round(t_s, 3),
                    f"the safety mux overrode a command ({interventions} so far)",
                    f"안전 먹스(safety mux)가 명령을 막았습니다 (지금까지 {interventions}회)",
                ),
            ]
        for event in events:
            text = json.dumps(event.as_dict(), ensure_ascii=False)
            self.recorder.write(
                EVENTS_TOPIC, EVENT_TYPE, serialize_message(String(data=text)), t_ns
            )
        if t_s + 1e-9 < self._truth_due_s:
            return
        self._truth_due_s = t_s + GROUND_TRUTH_PERIOD_S
        pose = self.world.true_pose()
        msg = PoseStamped()
        msg.header.frame_id = WORLD_FRAME
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(t_ns, 1_000_000_000)
        msg.pose.position.x, msg.pose.position.y = pose.x, pose.y
        msg.pose.orientation.z, msg.pose.orientation.w = (
            math.sin(pose.yaw / 2),
            math.cos(pose.yaw / 2),
        )
        self.recorder.write(GROUND_TRUTH_TOPIC, POSE_TYPE, serialize_message(msg), t_ns)
