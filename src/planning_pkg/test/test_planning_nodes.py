"""Planning nodes in their own processes, driven from this one over DDS (real rclpy)."""

import itertools
import math
from pathlib import Path

from geometry_msgs.msg import PoseStamped, PoseWithCovarianceStamped
from nav_msgs.msg import Odometry
from nav_msgs.msg import Path as PathMsg
from nav_msgs.srv import GetPlan
from rclpy.qos import DurabilityPolicy, QoSProfile
from std_msgs.msg import Bool

SCENARIO = Path(__file__).resolve().parents[2] / "curriculum_pkg/scenarios/banwol_plating_01.yaml"
LATCHED = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)


def pose_stamped(x, y, frame="map"):
    msg = PoseStamped()
    msg.header.frame_id = frame
    msg.pose.position.x, msg.pose.position.y = x, y
    msg.pose.orientation.w = 1.0
    return msg


def call(node, client, request, timeout_s=30):
    assert client.wait_for_service(timeout_sec=30), "service never appeared"
    future = client.call_async(request)
    assert node.spin_until(future.done, timeout_s), "no response"
    return future.result()


def test_planner_service_answers_from_another_process(ros_process, ros_node):
    ros_process("planning_pkg.nodes.map_node", params={"scenario": SCENARIO})
    ros_process("planning_pkg.nodes.planner_node")
    client = ros_node.create_client(GetPlan, "/plan_path")
    plans: list[PathMsg] = []
    ros_node.create_subscription(PathMsg, "/plan", plans.append, LATCHED)
    request = GetPlan.Request(start=pose_stamped(0.7, 0.9), goal=pose_stamped(7.0, 4.2))
    for _ in range(20):  # the planner may answer before /map has reached it: ask again
        response = call(ros_node, client, request)
        if response.plan.poses:
            break
        ros_node.spin_until(lambda: False, 0.5)
    poses = response.plan.poses
    assert response.plan.header.frame_id == "map" and len(poses) >= 2
    assert (poses[0].pose.position.x, poses[0].pose.position.y) == (0.7, 0.9)
    assert (poses[-1].pose.position.x, poses[-1].pose.position.y) == (7.0, 4.2)
    length = sum(
        math.dist((a.pose.position.x, a.pose.position.y), (b.pose.position.x, b.pose.position.y))
        for a, b in itertools.pairwise(poses)
    )
    assert math.dist((0.7, 0.9), (7.0, 4.2)) <= length < 12.0
    assert ros_node.spin_until(lambda: len(plans) > 0, 10)  # also published on /plan

    blocked = call(
        ros_node, client, GetPlan.Request(start=pose_stamped(0.7, 0.9), goal=pose_stamped(4.0, 2.6))
    )
    assert blocked.plan.poses == []  # inside the plating baths: "no path", answered, not hung


def test_follower_drives_the_simulated_robot_to_a_goal(ros_process, ros_node):
    ros_process("sim_pkg.nodes.bridge_node", params={"scenario": SCENARIO, "real_time_factor": 2.0})
    ros_process("planning_pkg.nodes.map_node", params={"scenario": SCENARIO})
    ros_process("planning_pkg.nodes.planner_node", params={"use_sim_time": True})
    ros_process("planning_pkg.nodes.follower_node", params={"use_sim_time": True})
    start = PoseWithCovarianceStamped()
    start.header.frame_id = "map"
    start.pose.pose = pose_stamped(
        0.7, 0.9
    ).pose  # the scenario's start, as "2D Pose Estimate" would set it
    ros_node.create_publisher(PoseWithCovarianceStamped, "/initialpose", LATCHED).publish(start)
    arrived: list[bool] = []
    odom: list[Odometry] = []
    ros_node.create_subscription(
        Bool, "/follower/arrived", lambda m: arrived.append(m.data), LATCHED
    )
    ros_node.create_subscription(Odometry, "/odom", odom.append, 10)
    goal_pub = ros_node.create_publisher(PoseStamped, "/goal_pose", 10)
    assert ros_node.spin_until(lambda: len(odom) > 0 and goal_pub.get_subscription_count() > 0, 30)
    ros_node.spin_until(lambda: False, 2.0)  # let /map reach the planner
    goal_pub.publish(pose_stamped(2.8, 1.4))
    assert ros_node.spin_until(lambda: arrived and arrived[-1], 90), "the follower never arrived"
    p = odom[-1].pose.pose.position
    assert (
        math.dist((0.7 + p.x, 0.9 + p.y), (2.8, 1.4)) < 0.15
    )  # odom starts at the start pose, yaw 0
