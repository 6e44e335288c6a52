"""Settings code that reads a node's parameters, run on given values without a node."""

from __future__ import annotations

from collections.abc import Mapping

from rclpy.parameter import Parameter

RANGE_TOLERANCE = 1e-6  # rclpy's, at the ends of a floating-point range


class GivenParameters:
    """Answers `declare_parameter` as a node started with `values` set would (an assignment's
    `parameters`, a launch file's), without a node or a ROS graph. Code that builds its settings
    through `node.declare_parameter(...)` (teleop_pkg's safety mux, input_player) then gives the
    ROS-free forecast of a run exactly what the node will run with. A value outside the range its
    descriptor declares raises ValueError, where the node would refuse to start; other types
    are not checked here (the real node fails at start-up, and the grade says so)."""

    def __init__(self, values: Mapping | None = None):
        self._values = dict(values or {})

    def declare_parameter(self, name: str, value=None, descriptor=None, ignore_override=False):
        value = self._values.get(name, value)
        if descriptor is not None and isinstance(value, (int, float)):
            _check_range(name, value, descriptor)
        return Parameter(name, value=value)


def _check_range(name: str, value: float, descriptor) -> None:
    """As rclpy checks a declared value against `floating_point_range` / `integer_range`."""
    for bounds in (*descriptor.floating_point_range, *descriptor.integer_range):
        lo, hi = bounds.from_value, bounds.to_value
        if not lo - RANGE_TOLERANCE <= value <= hi + RANGE_TOLERANCE:
            raise ValueError(f"{name} = {value} is outside its range [{lo:g}, {hi:g}]")
