"""Planning nodes in their own processes, driven from this one over DDS (real rclpy)."""

import itertools
import math
from pathlib import Path

import pytest
from geometry_msgs.msg import PoseStamped, PoseWithCovarianceStamped
from nav_msgs.msg import Odometry
from nav_msgs.msg import Path as PathMsg
from nav_msgs.srv import GetPlan
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import Bool

SCENARIO = Path(__file__).resolve().parents[2] / "curriculum_pkg/scenarios/banwol_plating_01.yaml"
LATCHED = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
# RViz's "2D Pose Estimate" tool publishes /initialpose so (rviz_default_plugins' InitialPoseTool)
RVIZ_INITIAL_POSE_QOS = QoSProfile(
    depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.VOLATILE
)


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


def initial_pose_msg(x, y) -> PoseWithCovarianceStamped:
    msg = PoseWithCovarianceStamped()
    msg.header.frame_id = "map"
    msg.pose.pose = pose_stamped(x, y).pose
    return msg


def test_planner_takes_the_start_from_rviz_2d_pose_estimate(ros_process, ros_node):
    ros_process("planning_pkg.nodes.map_node", params={"scenario": SCENARIO})
    ros_process("planning_pkg.nodes.planner_node")
    odom_pub = ros_node.create_publisher(Odometry, "/odom", 10)
    initial_pose = ros_node.create_publisher(
        PoseWithCovarianceStamped, "/initialpose", RVIZ_INITIAL_POSE_QOS
    )
    goal_pub = ros_node.create_publisher(PoseStamped, "/goal_pose", 10)
    plans: list[PathMsg] = []
    ros_node.create_subscription(PathMsg, "/plan", plans.append, LATCHED)
    assert ros_node.spin_until(lambda: initial_pose.get_subscription_count() > 0, 30), (
        "the planner's /initialpose subscription does not match RViz's publisher"
    )
    initial_pose.publish(initial_pose_msg(0.7, 0.9))  # once, as RViz does
    odom = Odometry()
    odom.pose.pose.orientation.w = 1.0  # the robot has not moved from its start
    for _ in range(60):  # until /map and /odom have reached the planner
        odom_pub.publish(odom)
        goal_pub.publish(pose_stamped(2.8, 1.4))
        if ros_node.spin_until(lambda: len(plans) > 0, 0.5):
            break
    assert plans, "no plan: the planner never placed the robot"
    first = plans[-1].poses[0].pose.position
    assert (first.x, first.y) == pytest.approx((0.7, 0.9))


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
    # the scenario's start, as "2D Pose Estimate" sets it: once, to whoever listens then
    initial_pose = ros_node.create_publisher(
        PoseWithCovarianceStamped, "/initialpose", RVIZ_INITIAL_POSE_QOS
    )
    assert ros_node.spin_until(lambda: initial_pose.get_subscription_count() >= 2, 30)
    initial_pose.publish(initial_pose_msg(0.7, 0.9))
    arrived: list[bool] = []
    odom: list[Odometry] = []
    ros_node.create_subscription(
        Bool, "/follower/arrived", lambda m: arrived.append(m.data), LATCHED
    )
    ros_node.create_subscription(Odometry, "/odom", odom.append, 10)
    plans: list[PathMsg] = []
    ros_node.create_subscription(PathMsg, "/plan", plans.append, LATCHED)
    goal_pub = ros_node.create_publisher(PoseStamped, "/goal_pose", 10)
    assert ros_node.spin_until(lambda: len(odom) > 0 and goal_pub.get_subscription_count() > 0, 30)
    for _ in range(60):  # a goal that comes before /map has reached the planner is not planned
        goal_pub.publish(pose_stamped(2.8, 1.4))
        if ros_node.spin_until(lambda: len(plans) > 0, 0.5):
            break
    assert plans, "no plan: the planner never got /map or the goal"
    assert ros_node.spin_until(lambda: arrived and arrived[-1], 90), "the follower never arrived"
    p = odom[-1].pose.pose.position
    assert (
        math.dist((0.7 + p.x, 0.9 + p.y), (2.8, 1.4)) < 0.15
    )  # odom starts at the start pose, yaw 0


def test_arm_commander_picks_a_part_in_the_simulator(
    ros_process, ros_node, workcell, part, profile
):
    """The simulator runs in this process (so the test can see the part's true position); the
    arm_commander runs in another and only talks to it over the arm controller's topics."""
    import time

    import numpy as np
    from geometry_msgs.msg import Pose, PoseArray
    from std_msgs.msg import String

    from sim_pkg.nodes.bridge_node import SimBridge
    from sim_pkg.world import SimWorld

    world = SimWorld(workcell, profile)
    bridge = SimBridge(world, context=ros_node.context)
    executor = ros_node.executor_for_test
    executor.add_node(bridge)
    ros_process("planning_pkg.nodes.arm_node", params={"use_sim_time": True})
    status: list[str] = []
    ros_node.create_subscription(String, "/arm/status", lambda m: status.append(m.data), 10)
    request_pub = ros_node.create_publisher(PoseArray, "/pick_place/request", 10)

    def run(seconds_wall, until):
        deadline = time.monotonic() + seconds_wall
        while time.monotonic() < deadline and not until():
            bridge.step()
            executor.spin_once(timeout_sec=0.002)
        return until()

    assert run(30, lambda: request_pub.get_subscription_count() > 0)
    run(2.0, lambda: False)  # joint states reach the commander
    start = world.part_positions()[part.name]
    base_z = profile.raw["base"]["base_link_height_m"]
    request = PoseArray()
    request.header.frame_id = "base_link"
    for dy in (0.0, 0.08):  # the part is 17 cm straight ahead of base_link; put it 8 cm to the left
        pose = Pose()
        pose.position.x, pose.position.y, pose.position.z = 0.17, dy, start[2] - base_z
        request.poses.append(pose)
    request_pub.publish(request)
    highest = [0.0]

    def finished():
        highest[0] = max(highest[0], world.part_positions()[part.name][2])
        return bool(status) and (status[-1] == "done" or status[-1].startswith("error"))

    assert run(120, finished), f"no result; status so far: {status[-3:]}"
    assert status[-1] == "done", status[-1]
    end = world.part_positions()[part.name]
    assert highest[0] > start[2] + 0.05  # lifted by the fingers, not pushed
    assert np.linalg.norm(end[:2] - (start[:2] + np.array([0.0, 0.08]))) < 0.02
    executor.remove_node(bridge)
    bridge.destroy_node()
