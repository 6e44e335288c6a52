"""sim_bridge: the embedded simulator's ROS 2 face, with the lab robot's topics, frames and QoS.

Publishes  /clock, /scan, /odom, /joint_states, /camera/image_raw, /camera/camera_info, and
           /tf, /tf_static where tf2_msgs is installed (sim_pkg/ros/tf_broadcast.py)
Subscribes /cmd_vel (TwistStamped on Jazzy, Twist on Humble: the profile's ros_distro, which
           follows $ROS_DISTRO; -p ros_distro:=humble|jazzy overrides it),
           /arm_controller/joint_trajectory, /gripper_controller/commands (Float64MultiArray)
Ground truth (true pose, contacts) is never published.
"""

from __future__ import annotations

import array
import contextlib
import math
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

import rclpy
from builtin_interfaces.msg import Time
from nav_msgs.msg import Odometry
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import QoSProfile, qos_profile_sensor_data
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo, Image, JointState, LaserScan
from std_msgs.msg import Float64MultiArray
from trajectory_msgs.msg import JointTrajectory

from common_pkg.profile import DEFAULT_PROFILE, RobotProfile, load_profile
from common_pkg.ros.cmd_vel import cmd_vel_type, read_cmd_vel
from common_pkg.worldspec import load_world
from sim_pkg.arm import TrajectoryPoint
from sim_pkg.dds import use_camera_transport
from sim_pkg.lockstep import LockstepPacer
from sim_pkg.pacing import Pacer
from sim_pkg.ros.tf_broadcast import TF_ABSENT, TfBroadcaster
from sim_pkg.world import SimWorld


def sim_stamp(sim_time_s: float) -> Time:
    """Seconds as a ROS time. Rounded to whole nanoseconds first, so that 5.9999999999 s becomes
    6 s, not 5 s and 0 ns (a clock that jumps back a second once a second)."""
    ns = round(sim_time_s * 1e9)
    return Time(sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000)


def _qos(kind: str) -> QoSProfile:
    return qos_profile_sensor_data if kind == "sensor" else QoSProfile(depth=10)


class SimBridge(Node):
    """Publishes the world's sensors on a schedule of sim time and feeds commands back into it."""

    def __init__(self, world: SimWorld, node_name: str = "sim_bridge", **node_kwargs):
        super().__init__(node_name, **node_kwargs)
        self.world = world
        p: RobotProfile = world.profile
        self.profile = p
        topics = p.topics
        # Only the newest base command matters, so a flood of /cmd_vel cannot pile up here;
        # arm and gripper commands are rare and applied in order.
        self._latest_twist: tuple[float, float] | None = None
        self._pending: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self.camera_frames = 0  # frames rendered and published (only while someone subscribes)
        self.last_frame_stamp_s: float | None = None  # the stamp of the latest of those frames
        self.scans_published = 0
        self.last_scan_stamp_s: float | None = None  # the stamp of the latest /scan
        self._steps = 0
        # tap(topic, message, sim time ns) sees every message the bridge publishes (the grader
        # records them so, without a subscription of its own taking each one through DDS).
        self.tap: Callable[[str, object, int], None] | None = None
        # settle() waits until the graph has caught up (lockstep pacing sets it).
        self.settle: Callable[[], None] | None = None
        # The last tick sent the graph something after its last settle(): lockstep must wait
        # for the graph once more before the next step.
        self.unsettled = False
        self.step_wall_ns = 0  # wall clock (time.time_ns) when the current step began
        self.clock_channels: list = []

        self._clock_pub = self.create_publisher(Clock, topics["clock"].name, QoSProfile(depth=10))
        self._scan_pub = self.create_publisher(
            LaserScan, topics["scan"].name, _qos(topics["scan"].qos)
        )
        self._odom_pub = self.create_publisher(
            Odometry, topics["odom"].name, _qos(topics["odom"].qos)
        )
        self._joint_pub = self.create_publisher(
            JointState, topics["joint_states"].name, _qos(topics["joint_states"].qos)
        )
        self._image_pub = self.create_publisher(
            Image, topics["image"].name, _qos(topics["image"].qos)
        )
        self._info_pub = self.create_publisher(
            CameraInfo, topics["camera_info"].name, _qos(topics["camera_info"].qos)
        )
        twist_type = cmd_vel_type(p.cmd_vel_stamped)
        self.create_subscription(
            twist_type, topics["cmd_vel"].name, self._on_cmd_vel, _qos(topics["cmd_vel"].qos)
        )
        self.tf = TfBroadcaster.create(self, p)  # None without tf2_msgs (pip installs)
        self.create_subscription(
            JointTrajectory,
            topics["arm_trajectory"].name,
            self._on_trajectory,
            QoSProfile(depth=10),
        )
        self.create_subscription(
            Float64MultiArray,
            topics["gripper_command"].name,
            self._on_gripper,
            QoSProfile(depth=10),
        )
        self._periods = {
            "scan": 1.0 / p.lidar_rate_hz,
            "odom": 1.0 / p.odom_rate_hz,
            "joints": 1.0 / (topics["joint_states"].rate_hz or p.odom_rate_hz),
            "camera": 1.0 / p.camera_rate_hz,
        }
        self._next_due = dict.fromkeys(self._periods, 0.0)

    # --------------------------------------------------------------- commands (executor thread)
    def _on_cmd_vel(self, msg) -> None:
        self._latest_twist = read_cmd_vel(msg)

    def _on_trajectory(self, msg: JointTrajectory) -> None:
        points = [
            TrajectoryPoint(
                pt.time_from_start.sec + pt.time_from_start.nanosec * 1e-9, tuple(pt.positions)
            )
            for pt in msg.points
        ]
        names = list(msg.joint_names)

        def apply() -> None:
            try:
                self.world.command_arm(names, points)
            except ValueError as exc:
                self.get_logger().warning(f"rejected arm trajectory: {exc}")

        self._pending.put(apply)

    def _on_gripper(self, msg: Float64MultiArray) -> None:
        if len(msg.data) != 1:
            self.get_logger().warning("gripper command needs exactly one value (metres)")
            return
        value = float(msg.data[0])
        self._pending.put(lambda: self.world.command_gripper(value))

    # --------------------------------------------------------------- simulation (main thread)
    def step(self) -> bool:
        """Apply queued commands and advance one control period; at a clock tick (every
        `profile.steps_per_tick` periods) publish /clock and whatever sensor data is due.
        Returns True if it published (the graph has something new to react to)."""
        self.step_wall_ns = time.time_ns()
        twist, self._latest_twist = self._latest_twist, None
        if twist is not None:
            self.world.command_base(*twist)
        while not self._pending.empty():
            self._pending.get_nowait()()
        self.world.step()
        self._steps += 1
        if self._steps % self.profile.steps_per_tick:
            return False
        now = self.world.time_s
        stamp = sim_stamp(now)
        self._publish(self._clock_pub, Clock(clock=stamp))
        # Lockstep: each process of the graph gets the new time in turn, and the next one only
        # once everything the last one set off has finished; then the sensor data. So a timer
        # callback never races another process's timer or a sensor callback.
        for publisher in self.clock_channels:
            publisher.publish(Clock(clock=stamp))
            if self.settle is not None:
                self.settle()
        if self.settle is not None and not self.clock_channels and self._sensors_due(now):
            self.settle()
        sensed = False
        for name, period in self._periods.items():
            if now + 1e-9 >= self._next_due[name]:
                self._next_due[name] += period * max(
                    1, math.floor((now - self._next_due[name]) / period) + 1
                )
                getattr(self, f"_publish_{name}")(stamp)
                sensed = True
        # With a channel per process every clock went out settled; a tick without sensor data
        # (a third of them: odometry runs at 30 Hz, the clock at 50) leaves nothing to wait for.
        self.unsettled = sensed or not self.clock_channels
        return True

    def add_clock_channel(self, topic: str) -> None:
        """Publish the time on `topic` too, after /clock, one channel at a time (see step()).
        The grader gives every process of the graph its own (`-r /clock:=<topic>`)."""
        self.clock_channels.append(self.create_publisher(Clock, topic, QoSProfile(depth=10)))

    def _sensors_due(self, now: float) -> bool:
        return any(now + 1e-9 >= due for due in self._next_due.values())

    def _publish(self, publisher, msg) -> None:
        publisher.publish(msg)
        if self.tap is not None:
            self.tap(publisher.topic_name, msg, round(self.world.time_s * 1e9))

    def _publish_scan(self, stamp: Time) -> None:
        p = self.profile
        ranges = self.world.scan()
        msg = LaserScan()
        msg.header.stamp = stamp
        msg.header.frame_id = p.lidar_frame_id
        msg.angle_min = 0.0
        msg.angle_increment = 2.0 * math.pi / p.lidar_samples
        msg.angle_max = msg.angle_increment * (p.lidar_samples - 1)
        msg.scan_time = 1.0 / p.lidar_rate_hz
        msg.time_increment = msg.scan_time / p.lidar_samples
        msg.range_min = p.lidar_range_min_m
        msg.range_max = p.lidar_range_max_m
        msg.ranges = array.array("f", ranges.tobytes())
        self._publish(self._scan_pub, msg)
        self.scans_published += 1
        self.last_scan_stamp_s = stamp.sec + stamp.nanosec * 1e-9

    def _publish_odom(self, stamp: Time) -> None:
        odom = self.world.odometry()
        msg = Odometry()
        msg.header.stamp = stamp
        msg.header.frame_id = self.profile.odom_frame_id
        msg.child_frame_id = self.profile.base_frame_id
        msg.pose.pose.position.x = float(odom.x)
        msg.pose.pose.position.y = float(odom.y)
        msg.pose.pose.orientation.z = math.sin(odom.yaw / 2.0)
        msg.pose.pose.orientation.w = math.cos(odom.yaw / 2.0)
        msg.twist.twist.linear.x = float(odom.linear_mps)
        msg.twist.twist.angular.z = float(odom.angular_rps)
        self._publish(self._odom_pub, msg)
        if self.tf is not None:
            self.tf.publish_odometry(stamp, odom.x, odom.y, odom.yaw)

    def _publish_joints(self, stamp: Time) -> None:
        js = self.world.joint_states()
        msg = JointState()
        msg.header.stamp = stamp
        msg.name = list(js.names)
        msg.position = js.positions.tolist()
        msg.velocity = js.velocities.tolist()
        self._publish(self._joint_pub, msg)

    def _publish_camera(self, stamp: Time) -> None:
        p = self.profile
        if self._image_pub.get_subscription_count() > 0:  # rendering is the expensive part
            frame = self.world.render_camera()
            img = Image()
            img.header.stamp = stamp
            img.header.frame_id = p.camera_frame_id
            img.height, img.width = frame.shape[:2]
            img.encoding = "rgb8"
            img.step = img.width * 3
            img.data = array.array("B", frame.tobytes())
            self._publish(self._image_pub, img)
            self.camera_frames += 1
            self.last_frame_stamp_s = stamp.sec + stamp.nanosec * 1e-9
        self._publish(self._info_pub, self.camera_info(stamp))

    def camera_info(self, stamp: Time) -> CameraInfo:
        """Pinhole intrinsics of the simulated camera (square pixels, no distortion)."""
        p = self.profile
        w, h = p.camera_width_px, p.camera_height_px
        f = (h / 2.0) / math.tan(p.camera_vfov_rad / 2.0)
        info = CameraInfo()
        info.header.stamp = stamp
        info.header.frame_id = p.camera_frame_id
        info.width, info.height = w, h
        info.distortion_model = "plumb_bob"
        info.d = [0.0] * 5
        info.k = [f, 0.0, w / 2.0, 0.0, f, h / 2.0, 0.0, 0.0, 1.0]
        info.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
        info.p = [f, 0.0, w / 2.0, 0.0, 0.0, f, h / 2.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        return info


def spin_in_background(executor) -> threading.Thread:
    """Serve subscriptions on a daemon thread while the main thread steps the physics."""

    def spin() -> None:
        with contextlib.suppress(ExternalShutdownException, rclpy.executors.ShutdownException):
            executor.spin()

    thread = threading.Thread(target=spin, name="ros-executor", daemon=True)
    thread.start()
    return thread


def run_paced(
    bridge: SimBridge,
    until_s: float,
    real_time_factor: float = 1.0,
    should_stop: Callable[[], bool] = lambda: False,
    on_step: Callable[[], None] | None = None,
    pacer: Pacer | LockstepPacer | None = None,
) -> Pacer | LockstepPacer:
    """Step the bridge until sim time `until_s` (inf = forever), at a fixed real-time factor
    or, given one, by `pacer` (a LockstepPacer waits for the graph at every tick)."""
    pacer = pacer or Pacer(real_time_factor, bridge.world.time_s)
    bridge.settle = getattr(pacer, "settle", None)
    while bridge.world.time_s < until_s and bridge.context.ok() and not should_stop():
        published = bridge.step()
        if on_step is not None:
            on_step()
        if published:  # between clock ticks the graph has nothing new to react to
            pacer.wait_until(bridge.world.time_s, settled=not bridge.unsettled)
    bridge.settle = None
    return pacer


def start_foxglove(bridge: SimBridge, port: int):
    """A Foxglove WebSocket server showing the bridge's topics, the student's and the scene on
    `port` (sim_pkg/ros/foxglove_live.py), or None for port 0. foxglove-sdk is only imported here:
    a robot or Gazebo image without it runs the bridge all the same."""
    if port <= 0:
        return None
    from sim_pkg.ros.foxglove_live import serve_foxglove

    try:
        live = serve_foxglove(bridge, port)
    except RuntimeError as exc:  # FoxgloveError: most often the port is taken
        raise SystemExit(
            f"sim_bridge: Foxglove port {port}: {exc} / Foxglove 포트 {port}를 열 수 없습니다 "
            "(다른 프로그램이 쓰고 있나요?)"
        ) from None
    bridge.get_logger().info(f"Foxglove WebSocket server on ws://localhost:{live.port}")
    return live


def start_live_view(
    bridge: SimBridge,
    port: int,
    scenario: str,
    rtf: float,
    title: dict[str, str] | None = None,
    progress=lambda: None,
):
    """The browser view of this simulation (sim_pkg.liveview) on `port`, or None for port 0.
    Its page can pause the simulation and change its speed: it paces the loop then.
    `title`: {"ko", "en"} (default: the scenario's file name); `progress`: the task-progress
    line for the page ({"ko", "en"} or None), e.g. from the grader's judge."""
    if port <= 0:
        return None
    from sim_pkg.liveview import LiveView
    from sim_pkg.ros.live_feed import LiveFeed

    title = title or {"ko": Path(scenario).stem, "en": Path(scenario).stem}
    feed = LiveFeed(bridge, LiveView(bridge.world.spec, port, rtf, title), progress)
    url = feed.start()
    bridge.get_logger().info(f"실시간 보기 / live view: {url}")
    return feed


def main(args=None) -> None:
    use_camera_transport()  # camera frames must fit in shared memory to reach other processes
    rclpy.init(args=args)
    params = Node("sim_bridge_params")
    scenario = params.declare_parameter("scenario", "").value
    profile_name = params.declare_parameter("robot_profile", DEFAULT_PROFILE).value
    distro = params.declare_parameter("ros_distro", "").value  # "" = the profile's
    seed = params.declare_parameter("seed", 0).value
    rtf = params.declare_parameter("real_time_factor", 1.0).value
    duration = params.declare_parameter("duration_s", 0.0).value
    foxglove_port = params.declare_parameter("foxglove_port", 0).value  # 0 = no Foxglove server
    view_port = params.declare_parameter("view_port", 0).value  # 0 = no live view in a browser
    params.destroy_node()
    if not scenario:
        raise SystemExit(
            "sim_bridge: set the scenario parameter (-p scenario:=path/to/scenario.yaml)"
        )
    world = SimWorld(
        load_world(scenario), load_profile(profile_name, ros_distro=distro or None), seed=int(seed)
    )
    bridge = SimBridge(world)
    bridge.get_logger().info(
        f"simulating {world.profile.name} in {scenario} at real-time factor {rtf:g}; "
        f"ROS 2 {world.profile.ros_distro}: /cmd_vel type "
        f"{cmd_vel_type(world.profile.cmd_vel_stamped).__name__}"
    )
    if bridge.tf is None:
        bridge.get_logger().info(TF_ABSENT)
    foxglove = start_foxglove(bridge, foxglove_port)
    executor = SingleThreadedExecutor()
    executor.add_node(bridge)
    spin_in_background(executor)
    live = start_live_view(bridge, int(view_port), scenario, rtf)
    try:
        pacer = run_paced(
            bridge,
            duration if duration > 0 else math.inf,
            rtf,
            on_step=None if live is None else live.on_step,
            pacer=None if live is None else live.pacer,
        )
        bridge.get_logger().info(f"done: real-time factor achieved {pacer.achieved_factor:.2f}")
    except KeyboardInterrupt:
        pass
    finally:
        if live is not None:
            live.stop()
        if foxglove is not None:
            foxglove.close()
        executor.shutdown()
        bridge.destroy_node()
        world.close()
        if rclpy.ok():
            rclpy.shutdown()


if __name__ == "__main__":
    main()
