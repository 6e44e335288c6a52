"""Attack: flood /shift/report (the capstone's end-of-shift report) from a student's process.

The grader's monitor reads the reports over DDS (real rclpy, two processes). Whatever a node
sends, the monitor keeps at most MAX_SHIFT_REPORTS reports of MAX_SHIFT_REPORT_CHARS characters,
in the order they came: a flood of huge reports cannot fill the grader's memory, and since the
judge takes the first report sent at the terminal (test_report_step), sending more never helps.
"""

from __future__ import annotations

import os
import textwrap

from curriculum_pkg.nodes.grader_monitor_node import (
    MAX_SHIFT_REPORT_CHARS,
    MAX_SHIFT_REPORTS,
    SHIFT_REPORT_TOPIC,
    GraderMonitor,
)

FLOOD = 300  # reports of ~210 kB each: ~63 MB in one burst
FLOODER = textwrap.dedent(
    f"""
    import rclpy
    from rclpy.node import Node
    from std_msgs.msg import String

    rclpy.init()
    node = Node("shift_flooder")
    pub = node.create_publisher(String, "{SHIFT_REPORT_TOPIC}", 50)
    while pub.get_subscription_count() == 0:
        rclpy.spin_once(node, timeout_sec=0.05)
    huge = "navigate:cnc_outfeed " * 10000
    for i in range({FLOOD}):
        pub.publish(String(data=f"{{i:03d}} " + huge))
    pub.publish(String(data="navigate:cnc_outfeed"))  # the honest one, too late
    node.get_logger().info("flooded")
    rclpy.spin(node)
    """
)


def test_a_flood_of_huge_shift_reports_keeps_the_first_few_cut_short(
    ros_node, ros_process, tmp_path
):
    monitor = GraderMonitor(
        "/mission/waypoints",
        [],
        [],
        "odom",
        (),
        sim_time=lambda: 12.5,
        context=ros_node.context,
    )
    ros_node.executor_for_test.add_node(monitor)
    try:
        (tmp_path / "shift_flooder.py").write_text(FLOODER)
        path = os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])
        ros_process("shift_flooder", env={"PYTHONPATH": path})
        assert ros_node.spin_until(lambda: len(monitor.shift_reports()) >= MAX_SHIFT_REPORTS, 60)
        ros_node.spin_until(lambda: False, 3.0)  # the rest of the burst arrives meanwhile
        kept = monitor.shift_reports()
        assert len(kept) == MAX_SHIFT_REPORTS
        assert all(len(text) <= MAX_SHIFT_REPORT_CHARS for _, text in kept)
        assert all(t == 12.5 for t, _ in kept)  # dated by the grader's sim time on arrival
        numbers = [int(text.split()[0]) for _, text in kept]
        assert numbers == sorted(numbers)  # in the order they came
        assert all(text != "navigate:cnc_outfeed" for _, text in kept)  # no room after a flood
    finally:
        ros_node.executor_for_test.remove_node(monitor)
        monitor.destroy_node()
