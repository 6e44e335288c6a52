"""The bridge in its own process, a test node in this one: real rclpy over DDS."""

import math
from pathlib import Path

import pytest
from geometry_msgs.msg import TwistStamped
from nav_msgs.msg import Odometry
from rclpy.qos import qos_profile_sensor_data
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo, Image, JointState, LaserScan

SCENARIO = Path(__file__).resolve().parents[2] / "curriculum_pkg/scenarios/banwol_plating_01.yaml"


@pytest.fixture
def bridge_process(ros_process):
    return ros_process(
        "sim_pkg.nodes.bridge_node", params={"scenario": SCENARIO, "real_time_factor": 2.0}
    )


@pytest.fixture
def node(ros_node):
    return ros_node


def test_cmd_vel_from_another_process_moves_the_robot_in_the_physics(bridge_process, node):
    odoms: list[Odometry] = []
    node.create_subscription(Odometry, "/odom", odoms.append, 10)
    cmd = node.create_publisher(TwistStamped, "/cmd_vel", 10)
    assert node.spin_until(lambda: len(odoms) > 0, 30), "no /odom from the bridge"
    start_x = odoms[-1].pose.pose.position.x

    def send():
        msg = TwistStamped()
        msg.twist.linear.x = 0.2
        cmd.publish(msg)

    node.create_timer(0.05, send)
    assert node.spin_until(lambda: odoms[-1].pose.pose.position.x - start_x > 0.3, 30)
    last = odoms[-1]
    assert last.header.frame_id == "odom" and last.child_frame_id == "base_footprint"
    assert last.twist.twist.linear.x == pytest.approx(0.2, abs=0.03)


def test_bridge_publishes_lab_robot_sensor_topics(bridge_process, node):
    got = {"scan": [], "clock": [], "joints": [], "info": []}
    # /scan is best effort like the LDS-01 driver: a sensor-data subscriber is what works on the robot.
    node.create_subscription(LaserScan, "/scan", got["scan"].append, qos_profile_sensor_data)
    node.create_subscription(Clock, "/clock", got["clock"].append, 10)
    node.create_subscription(JointState, "/joint_states", got["joints"].append, 10)
    node.create_subscription(
        CameraInfo, "/camera/camera_info", got["info"].append, qos_profile_sensor_data
    )
    assert node.spin_until(lambda: all(len(v) >= 3 for v in got.values()), 30), {
        k: len(v) for k, v in got.items()
    }
    scan = got["scan"][-1]
    assert scan.header.frame_id == "base_scan"
    assert len(scan.ranges) == 360
    assert (scan.range_min, scan.range_max) == pytest.approx((0.12, 3.5))
    assert scan.angle_increment == pytest.approx(2 * math.pi / 360)
    t0 = got["clock"][0].clock.sec + got["clock"][0].clock.nanosec * 1e-9
    t1 = got["clock"][-1].clock.sec + got["clock"][-1].clock.nanosec * 1e-9
    assert t1 > t0
    assert {
        "wheel_left_joint",
        "wheel_right_joint",
        "joint1",
        "joint4",
        "gripper_left_joint",
    } <= set(got["joints"][-1].name)
    assert got["info"][-1].k[0] > 0


def test_camera_frames_reach_another_process(bridge_process, node):
    """640x480 frames are 900 KiB: they only arrive reliably because the bridge gets a shared-memory
    segment large enough for them (config/dds/fastdds_camera_shm.xml); without it most are lost."""
    images: list[Image] = []
    node.create_subscription(Image, "/camera/image_raw", images.append, qos_profile_sensor_data)
    assert node.spin_until(lambda: len(images) >= 2, 60), "no camera frames"
    img = images[-1]
    assert (img.width, img.height, img.encoding) == (640, 480, "rgb8")
    assert len(img.data) == 640 * 480 * 3
    first = images[0].header.stamp
    node.spin_until(lambda: False, 4.0)
    last = images[-1].header.stamp
    sim_span_s = (last.sec - first.sec) + (last.nanosec - first.nanosec) * 1e-9
    sent = sim_span_s * 15.0 + 1  # the profile's camera rate
    assert len(images) >= 0.8 * sent, f"{len(images)} of about {sent:.0f} frames arrived"


def test_arm_trajectory_and_gripper_commands_move_the_joints(bridge_process, node):
    from builtin_interfaces.msg import Duration
    from std_msgs.msg import Float64MultiArray
    from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

    states: list[JointState] = []
    node.create_subscription(JointState, "/joint_states", states.append, 10)
    arm = node.create_publisher(JointTrajectory, "/arm_controller/joint_trajectory", 10)
    gripper = node.create_publisher(Float64MultiArray, "/gripper_controller/commands", 10)
    assert node.spin_until(lambda: len(states) > 0, 30)

    def send():
        traj = JointTrajectory(joint_names=["joint1"])
        traj.points = [JointTrajectoryPoint(positions=[0.8], time_from_start=Duration(sec=1))]
        arm.publish(traj)
        gripper.publish(Float64MultiArray(data=[-0.008]))

    node.create_timer(0.5, send)

    def position(name):
        return dict(zip(states[-1].name, states[-1].position, strict=True))[name]

    assert node.spin_until(
        lambda: abs(position("joint1") - 0.8) < 0.05 and position("gripper_left_joint") < -0.006, 30
    )
