"""Humble or Jazzy, one switch (common_pkg.distro): the simulator, the grader and the graph check
follow it, and ROBOTIS' turtlebot3_example way of driving (Twist on /cmd_vel) works on Humble."""

import json
import os
import subprocess
import sys
from collections import Counter

import pytest
from geometry_msgs.msg import Twist, TwistStamped
from mcap.reader import make_reader
from nav_msgs.msg import Odometry
from rclpy.qos import QoSProfile

from curriculum_pkg.assignment import for_distro, load_assignment
from curriculum_pkg.cli import main as rootroute
from curriculum_pkg.grader import grade


def graph_types(assignment):
    return {
        (n.name, t.topic): t.type for n in assignment.nodes for t in (*n.publishes, *n.subscribes)
    }


def test_humble_graph_expects_twist_on_velocity_commands_only():
    jazzy = load_assignment("plating_stations")
    humble = graph_types(for_distro(jazzy, "humble"))
    assert humble[("/navigator", "/cmd_vel_autonomy")] == "geometry_msgs/msg/Twist"
    assert humble[("/safety_mux", "/cmd_vel")] == "geometry_msgs/msg/Twist"
    assert humble[("/navigator", "/scan")] == "sensor_msgs/msg/LaserScan"
    assert graph_types(for_distro(jazzy, "jazzy")) == graph_types(jazzy)  # written for Jazzy


@pytest.mark.parametrize("command", ["grade", "batch", "sim", "dev"])
def test_every_graph_command_takes_distro_and_refuses_others(command, capsys):
    with pytest.raises(SystemExit):
        needs = [] if command == "sim" else ["-a", "plating_stations"]
        rootroute([command, "x", *needs, "--distro", "melodic"])
    assert "invalid choice: 'melodic'" in capsys.readouterr().err


def start_sim(ros_domain, tmp_path, distro: str) -> subprocess.Popen:
    """`rootroute sim SCENARIO --distro DISTRO` in a process of its own, on the test's domain."""
    env = {
        **os.environ,
        **ros_domain.env(distro),
        "ROS_LOG_DIR": str(tmp_path / "ros_log"),
    }
    env.pop("ROS_DISTRO", None)  # the option alone decides
    log = (tmp_path / f"sim_{distro}.log").open("w")
    cmd = [sys.executable, "-m", "curriculum_pkg.cli", "sim", "banwol_plating_01"]
    cmd += ["--distro", distro, "--rtf", "2", "--view-port", "0"]
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)


@pytest.fixture
def sim_process(ros_domain, tmp_path):
    procs = []
    yield lambda distro: procs.append(start_sim(ros_domain, tmp_path, distro)) or procs[-1]
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(
    ("distro", "msg_type"), [("humble", Twist), ("jazzy", TwistStamped)], ids=["humble", "jazzy"]
)
def test_cmd_vel_of_the_distribution_drives_the_simulated_robot(
    distro, msg_type, sim_process, ros_node
):
    """As ROBOTIS' turtlebot3_example nodes (turtlebot3_position_control) drive the robot:
    QoSProfile(depth=10), reliable, on the relative topic cmd_vel; Twist on Humble."""
    sim = sim_process(distro)
    odoms: list[Odometry] = []
    ros_node.create_subscription(Odometry, "odom", odoms.append, QoSProfile(depth=10))
    cmd_vel_pub = ros_node.create_publisher(msg_type, "cmd_vel", QoSProfile(depth=10))
    assert ros_node.spin_until(lambda: odoms and cmd_vel_pub.get_subscription_count() > 0, 60), (
        f"the simulator never came up (exit code {sim.poll()})"
    )
    (bridge_sub,) = ros_node.get_subscriptions_info_by_topic("/cmd_vel")
    assert bridge_sub.topic_type == f"geometry_msgs/msg/{msg_type.__name__}"
    start_x = odoms[-1].pose.pose.position.x

    def drive():
        msg = msg_type()
        (msg.twist if msg_type is TwistStamped else msg).linear.x = 0.2
        cmd_vel_pub.publish(msg)

    ros_node.create_timer(0.1, drive)  # turtlebot3_example's 10 Hz loop
    assert ros_node.spin_until(lambda: odoms[-1].pose.pose.position.x - start_x > 0.2, 30)


def test_reference_graded_in_humble_mode_drives_with_twist(
    quick_assignment, assignment_dir, tmp_path
):
    result = grade(
        assignment_dir / "reference",
        quick_assignment,
        tmp_path / "out",
        progress=lambda _m: None,
        distro="humble",
    )
    assert result.error is None, result.error
    assert result.points >= 90, [c for ep in result.episodes for c in ep.criteria]
    report = json.loads((tmp_path / "out/result.json").read_text())
    assert report["ros_distro"] == "humble" and report["schema_version"] == "1.10"
    (ep,) = report["episodes"]
    with (tmp_path / "out" / ep["recording"]["path"]).open("rb") as f:
        reader = make_reader(f)
        types = {
            c.topic: reader.get_summary().schemas[c.schema_id].name
            for c in reader.get_summary().channels.values()
        }
        counts = Counter(channel.topic for _s, channel, _m in reader.iter_messages())
    assert types["/cmd_vel"] == "geometry_msgs/msg/Twist"
    assert types["/cmd_vel_autonomy"] == "geometry_msgs/msg/Twist"
    assert counts["/cmd_vel"] > 100
