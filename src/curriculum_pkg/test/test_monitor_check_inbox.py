"""The grader's monitor hands the checks' messages over by when they were SENT (real rclpy).

An answer sent after the current step began waits for the next step: by then the check has seen
the truth of the scan or frame it answers. Without that, a fast answer on a busy machine reached
the check before its scan did and was dropped (measured: 6-12 of ~155 scans "no answer" for the
sensor_readings reference under a CPU hog, none at rest)."""

from __future__ import annotations

import time

from geometry_msgs.msg import PointStamped
from rclpy.qos import QoSProfile, ReliabilityPolicy

from curriculum_pkg.nodes.grader_monitor_node import GraderMonitor

TOPIC = "/sensors/nearest_obstacle"


def test_a_message_sent_after_the_step_began_waits_for_the_next_step(ros_node):
    monitor = GraderMonitor(
        "/mission/waypoints",
        [],
        [],
        "odom",
        (),
        sim_time=lambda: 3.0,
        check_topics=((TOPIC, "geometry_msgs/msg/PointStamped"),),
        context=ros_node.context,
    )
    ros_node.executor_for_test.add_node(monitor)
    try:
        pub = ros_node.create_publisher(
            PointStamped, TOPIC, QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
        )
        assert ros_node.spin_until(lambda: pub.get_subscription_count() > 0, 30)
        monitor.note_time(2.98)
        step_began_ns = time.time_ns()
        answer = PointStamped()
        answer.header.frame_id = "base_scan"
        answer.point.x = 0.7
        pub.publish(answer)
        got: list = []

        def arrived() -> bool:  # poll the way the grader does, a step at a time
            got.extend(monitor.take_check_messages(sent_before_ns=step_began_ns))
            return monitor.check_messages_waiting() > 0 or bool(got)

        assert ros_node.spin_until(arrived, 10)
        assert got == []  # sent during this step: held back
        assert monitor.check_messages_waiting() == 1
        assert monitor.take_check_messages(sent_before_ns=step_began_ns) == []  # still held
        monitor.note_time(3.0)  # the next step
        (topic, msg, sent_s), *rest = monitor.take_check_messages(sent_before_ns=time.time_ns())
        assert (topic, msg.point.x, rest) == (TOPIC, 0.7, [])
        assert sent_s == 3.0  # dated by the first step noted after it was sent
    finally:
        ros_node.executor_for_test.remove_node(monitor)
        monitor.destroy_node()
