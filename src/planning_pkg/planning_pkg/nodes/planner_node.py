"""global_planner: cost-aware A* on /map, as the nav_msgs/GetPlan service and on /goal_pose.

Service /plan_path (nav_msgs/srv/GetPlan): start and goal in the map frame -> a smoothed path, or
an empty path (and a warning saying why) when the goal is blocked or unreachable.
Topic /goal_pose (geometry_msgs/PoseStamped, RViz's "2D Goal Pose"): plans from the robot's
current pose (/odom placed in the map by /initialpose). Every plan is also published on /plan.
"""

import numpy as np
import rclpy
from geometry_msgs.msg import PoseStamped, PoseWithCovarianceStamped
from nav_msgs.msg import OccupancyGrid, Odometry, Path
from nav_msgs.srv import GetPlan
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile

from planning_pkg.astar import NoPathError, plan_path, smooth_path
from planning_pkg.grid import inflate
from planning_pkg.nodes.convert import (
    INITIAL_POSE_QOS,
    compose,
    msg_to_grid,
    path_to_msg,
    pose_xyyaw,
)

LATCHED = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)


class GlobalPlanner(Node):
    def __init__(self):
        super().__init__("global_planner")
        self.robot_radius_m = float(self.declare_parameter("robot_radius_m", 0.2).value)
        self.inflation_radius_m = float(self.declare_parameter("inflation_radius_m", 0.55).value)
        self.cost_scaling = float(self.declare_parameter("cost_scaling", 5.0).value)
        self.grid = None
        self.cost = None
        self.start = (0.0, 0.0, 0.0)
        self.odom = None
        self.plan_pub = self.create_publisher(Path, "/plan", LATCHED)
        self.create_subscription(OccupancyGrid, "/map", self.on_map, LATCHED)
        self.create_subscription(
            Odometry, "/odom", lambda m: setattr(self, "odom", pose_xyyaw(m.pose.pose)), 10
        )
        self.create_subscription(
            PoseWithCovarianceStamped,
            "/initialpose",
            lambda m: setattr(self, "start", pose_xyyaw(m.pose.pose)),
            INITIAL_POSE_QOS,  # RViz's "2D Pose Estimate"
        )
        self.create_subscription(PoseStamped, "/goal_pose", self.on_goal, 10)
        self.create_service(GetPlan, "/plan_path", self.on_get_plan)

    def on_map(self, msg: OccupancyGrid) -> None:
        self.grid = msg_to_grid(msg)
        self.cost = inflate(
            self.grid, self.robot_radius_m, self.inflation_radius_m, self.cost_scaling
        )
        self.get_logger().info(
            f"map {self.grid.shape[1]} x {self.grid.shape[0]} received, inflated"
        )

    def plan(self, start_xy, goal_xy) -> Path:
        stamp = self.get_clock().now().to_msg()
        if self.cost is None:
            self.get_logger().warning(
                "no /map yet, cannot plan / 아직 /map을 받지 못해 경로를 만들 수 없습니다"
            )
            return Path(header=Path().header)
        try:
            cells, _ = plan_path(
                self.cost, self.grid.world_to_cell(start_xy), self.grid.world_to_cell(goal_xy)
            )
        except NoPathError as err:
            self.get_logger().warning(str(err))
            empty = Path()
            empty.header.frame_id = "map"
            empty.header.stamp = stamp
            return empty
        corners = self.grid.cell_to_world(smooth_path(self.cost, cells))
        corners[0], corners[-1] = start_xy, goal_xy  # exact ends, not cell centres
        path = path_to_msg(np.asarray(corners), "map", stamp)
        self.plan_pub.publish(path)
        return path

    def on_get_plan(self, request: GetPlan.Request, response: GetPlan.Response) -> GetPlan.Response:
        start = (request.start.pose.position.x, request.start.pose.position.y)
        goal = (request.goal.pose.position.x, request.goal.pose.position.y)
        response.plan = self.plan(start, goal)
        return response

    def on_goal(self, msg: PoseStamped) -> None:
        if self.odom is None:
            self.get_logger().warning(
                "no /odom yet, cannot plan from the robot / /odom이 아직 없습니다"
            )
            return
        x, y, _ = compose(self.start, self.odom)
        self.plan((x, y), (msg.pose.position.x, msg.pose.position.y))


def main(args=None):
    rclpy.init(args=args)
    node = GlobalPlanner()
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
