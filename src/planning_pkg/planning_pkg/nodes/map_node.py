"""occupancy_map: serves /map, either rasterized from a scenario or built online from /scan.

mode "scenario": the scenario's walls, obstacles, station posts and keep-out zones, published once
                 (transient local, like nav2's map_server).
mode "scan":     log-odds mapping from /scan at the pose given by /odom, placed in the map frame by
                 /initialpose (the robot's start, as set with RViz's "2D Pose Estimate").
"""

import rclpy
from geometry_msgs.msg import PoseWithCovarianceStamped
from nav_msgs.msg import OccupancyGrid, Odometry
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, qos_profile_sensor_data
from sensor_msgs.msg import LaserScan

from common_pkg.worldspec import load_world
from planning_pkg.grid import (
    GridMap,
    empty_log_odds,
    grid_from_world,
    integrate_scan,
    log_odds_to_grid,
)
from planning_pkg.nodes.convert import INITIAL_POSE_QOS, compose, grid_to_msg, pose_xyyaw

LATCHED = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)


class OccupancyMapNode(Node):
    def __init__(self):
        super().__init__("occupancy_map")
        self.mode = self.declare_parameter(
            "mode", "scenario", ParameterDescriptor(description="scenario | scan")
        ).value
        scenario = self.declare_parameter("scenario", "").value
        resolution = float(self.declare_parameter("resolution_m", 0.05).value)
        self.frame_id = self.declare_parameter("frame_id", "map").value
        self.sensor_x_m = float(self.declare_parameter("lidar_x_offset_m", -0.024).value)
        self.pub = self.create_publisher(OccupancyGrid, "/map", LATCHED)
        if self.mode == "scenario":
            grid = grid_from_world(load_world(scenario), resolution)
            self.pub.publish(grid_to_msg(grid, self.frame_id, self.get_clock().now().to_msg()))
            self.get_logger().info(
                f"map of {scenario}: {grid.shape[1]} x {grid.shape[0]} cells at {resolution} m"
            )
            return
        size = self.declare_parameter("size_m", [12.0, 12.0]).value
        origin = self.declare_parameter("origin_m", [-6.0, -6.0]).value
        shape = (round(size[1] / resolution), round(size[0] / resolution))
        self.template = GridMap(
            empty_log_odds(shape).astype("int8"), resolution, (origin[0], origin[1])
        )
        self.log_odds = empty_log_odds(shape)
        self.start = (0.0, 0.0, 0.0)  # map <- odom until /initialpose says otherwise
        self.odom = None
        self.create_subscription(Odometry, "/odom", self.on_odom, 10)
        self.create_subscription(
            PoseWithCovarianceStamped, "/initialpose", self.on_initial_pose, INITIAL_POSE_QOS
        )
        self.create_subscription(LaserScan, "/scan", self.on_scan, qos_profile_sensor_data)
        self.create_timer(
            float(self.declare_parameter("publish_period_s", 1.0).value), self.publish
        )

    def on_initial_pose(self, msg: PoseWithCovarianceStamped) -> None:
        self.start = pose_xyyaw(msg.pose.pose)

    def on_odom(self, msg: Odometry) -> None:
        self.odom = pose_xyyaw(msg.pose.pose)

    def on_scan(self, msg: LaserScan) -> None:
        if self.odom is None:
            return
        pose = compose(self.start, self.odom)
        self.log_odds = integrate_scan(
            self.log_odds,
            self.template,
            pose,
            msg.ranges,
            msg.angle_min,
            msg.angle_increment,
            msg.range_min,
            msg.range_max,
            self.sensor_x_m,
        )

    def publish(self) -> None:
        grid = log_odds_to_grid(self.log_odds, self.template)
        self.pub.publish(grid_to_msg(grid, self.frame_id, self.get_clock().now().to_msg()))


def main(args=None):
    rclpy.init(args=args)
    node = OccupancyMapNode()
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
