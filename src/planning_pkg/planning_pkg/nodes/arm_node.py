"""arm_commander: OpenMANIPULATOR-X moves and pick-and-place, on the arm controller's topics.

In:  /pick_place/request (geometry_msgs/PoseArray, frame base_link: poses[0] = the part's centre,
     poses[1] = where to put it down), /arm/goal_pose (geometry_msgs/PoseStamped, base_link: the
     gripper tip, pitched down by the orientation's rotation about y), /joint_states.
Out: /arm_controller/joint_trajectory (trajectory_msgs/JointTrajectory, time-parameterized within
     the profile's velocity and acceleration limits), /gripper_controller/commands
     (std_msgs/Float64MultiArray, the simulator's stand-in for the GripperCommand action), and
     /arm/status (std_msgs/String: "busy: <step>", "done", or "error: <reason>").
"""

import math

import numpy as np
import rclpy
from builtin_interfaces.msg import Duration
from geometry_msgs.msg import PoseArray, PoseStamped
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray, String
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

from common_pkg.profile import DEFAULT_PROFILE, load_profile
from planning_pkg.arm_kinematics import ArmGeometry, UnreachableError, solve_ik
from planning_pkg.pick_place import ArmMove, GripperMove, plan_pick_and_place
from planning_pkg.trajectory import gripper_command, time_parameterize


def _duration(seconds: float) -> Duration:
    return Duration(sec=int(seconds), nanosec=int((seconds % 1.0) * 1e9))


class ArmCommander(Node):
    def __init__(self):
        super().__init__("arm_commander")
        self.profile = load_profile(self.declare_parameter("robot_profile", DEFAULT_PROFILE).value)
        self.geometry = ArmGeometry.from_profile(self.profile)
        scale = float(self.declare_parameter("speed_scale", 0.5).value)
        self.v_max = scale * np.array([j.max_velocity for j in self.profile.arm_joints])
        self.a_max = scale * np.array(self.profile.arm_max_acceleration_rps2)
        self.settle_s = float(self.declare_parameter("settle_s", 0.8).value)
        self.names = [j.name for j in self.profile.arm_joints]
        self.traj_pub = self.create_publisher(
            JointTrajectory, "/arm_controller/joint_trajectory", 10
        )
        self.grip_pub = self.create_publisher(Float64MultiArray, "/gripper_controller/commands", 10)
        self.status_pub = self.create_publisher(String, "/arm/status", 10)
        self.create_subscription(JointState, "/joint_states", self.on_joints, 10)
        self.create_subscription(PoseArray, "/pick_place/request", self.on_pick_place, 10)
        self.create_subscription(PoseStamped, "/arm/goal_pose", self.on_goal_pose, 10)
        self.q = None
        self.queue = []
        self.step_done_at = None
        self.create_timer(0.05, self.tick)

    def on_joints(self, msg: JointState) -> None:
        pos = dict(zip(msg.name, msg.position, strict=False))
        if all(n in pos for n in self.names):
            self.q = np.array([pos[n] for n in self.names])

    def start(self, steps) -> None:
        self.queue = list(steps)
        self.step_done_at = None

    def refuse(self, err: Exception) -> None:
        self.get_logger().warning(str(err))
        self.status_pub.publish(String(data=f"error: {err}"))

    def on_pick_place(self, msg: PoseArray) -> None:
        if self.q is None or len(msg.poses) != 2:
            self.refuse(
                ValueError(
                    "need /joint_states and exactly two poses [pick, place] / "
                    "/joint_states와 [집기, 놓기] 두 자세가 필요합니다"
                )
            )
            return
        pick, place = (np.array([p.position.x, p.position.y, p.position.z]) for p in msg.poses)
        try:
            self.start(
                plan_pick_and_place(
                    self.geometry, pick, place, self.q, np.array(self.profile.arm_home_rad)
                )
            )
        except UnreachableError as err:
            self.refuse(err)

    def on_goal_pose(self, msg: PoseStamped) -> None:
        o, p = msg.pose.orientation, msg.pose.position
        pitch = math.asin(max(-1.0, min(1.0, 2.0 * (o.w * o.y - o.z * o.x))))  # rotation about y
        target = np.array([p.x, p.y, p.z]) - np.array(self.geometry.mount_xyz_m)
        try:
            self.start(
                [ArmMove(np.array([solve_ik(self.geometry, target, pitch, self.q)]), "move / 이동")]
            )
        except UnreachableError as err:
            self.refuse(err)

    def tick(self) -> None:
        now = self.get_clock().now().nanoseconds * 1e-9
        if not self.queue or self.q is None:
            return
        if self.step_done_at is not None:
            if now < self.step_done_at:
                return
            self.queue.pop(0)
            self.step_done_at = None
            if not self.queue:
                self.status_pub.publish(String(data="done"))
                return
        step = self.queue[0]
        self.status_pub.publish(String(data=f"busy: {step.label}"))
        if isinstance(step, GripperMove):
            self.grip_pub.publish(
                Float64MultiArray(data=[gripper_command(step.open, self.profile)])
            )
            self.step_done_at = now + self.settle_s + 0.5
            return
        plan = time_parameterize(np.vstack([self.q, step.waypoints_rad]), self.v_max, self.a_max)
        # Sampled every 50 ms, with velocities, so that a controller interpolating linearly (the
        # simulator) or with splines (ros2_control's JTC) follows the same speed profile.
        times = np.append(np.arange(0.05, plan.duration_s, 0.05), plan.duration_s)
        traj = JointTrajectory(joint_names=self.names)
        for t, q, qd in zip(times, plan.sample(times), plan.sample_velocity(times), strict=True):
            traj.points.append(
                JointTrajectoryPoint(
                    positions=q.tolist(),
                    velocities=qd.tolist(),
                    time_from_start=_duration(float(t)),
                )
            )
        self.traj_pub.publish(traj)
        self.step_done_at = now + plan.duration_s + self.settle_s


def main(args=None):
    rclpy.init(args=args)
    node = ArmCommander()
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()


if __name__ == "__main__":
    main()
