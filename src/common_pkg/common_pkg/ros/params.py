"""Settings code that reads a node's parameters, run on given values without a node."""

from __future__ import annotations

from collections.abc import Mapping

from rclpy.parameter import Parameter


class GivenParameters:
    """Answers `declare_parameter` as a node started with `values` set would (an assignment's
    `parameters`, a launch file's), without a node or a ROS graph. Code that builds its settings
    through `node.declare_parameter(...)` (teleop_pkg's safety mux) then gives the ROS-free
    forecast of a run exactly what the node will run with. Types are not checked here: a value
    the node would refuse makes the real node fail at start-up, and the grade says so."""

    def __init__(self, values: Mapping | None = None):
        self._values = dict(values or {})

    def declare_parameter(self, name: str, value=None, descriptor=None, ignore_override=False):
        return Parameter(name, value=self._values.get(name, value))
