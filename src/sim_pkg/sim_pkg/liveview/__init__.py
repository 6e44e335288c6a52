"""Watch the simulation live in a browser, or replay a graded episode (ROS-free core).

`LiveView` serves the page and takes the simulator's state; `SteerablePacer` lets the page pause
the simulation and change its speed; `scene` turns a world and sensor data into what the page
draws. The ROS side (the student's paths and markers) is `sim_pkg.ros.live_feed`.
"""

from sim_pkg.liveview.pacing import SteerablePacer
from sim_pkg.liveview.scene import actor_poses, floor_plan, scan_points
from sim_pkg.liveview.server import LiveCommands, LiveView, ViewServer, json_route

__all__ = [
    "LiveCommands",
    "LiveView",
    "SteerablePacer",
    "ViewServer",
    "actor_poses",
    "floor_plan",
    "json_route",
    "scan_points",
]
