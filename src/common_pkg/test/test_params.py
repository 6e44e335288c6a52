"""GivenParameters refuses what a real rclpy node would refuse at declare time: the ROS-free tour
forecast and `rootroute assignment validate` then say so before a grading fails at start-up."""

from __future__ import annotations

import pytest
import rclpy
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.exceptions import InvalidParameterValueException
from rclpy.parameter import Parameter

from common_pkg.ros.params import GivenParameters

RATE = ParameterDescriptor(
    floating_point_range=[FloatingPointRange(from_value=1.0, to_value=100.0)]
)
PRIORITY = ParameterDescriptor(integer_range=[IntegerRange(from_value=0, to_value=1000)])


@pytest.fixture(scope="module")
def node():
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=0)
    # a node never spun, on a context of its own: declare_parameter needs no graph
    made = []

    def make(name, value):
        n = rclpy.create_node(
            f"params_{len(made)}",
            context=context,
            parameter_overrides=[Parameter(name, value=value)],
            start_parameter_services=False,
        )
        made.append(n)
        return n

    yield make
    for n in made:
        n.destroy_node()
    rclpy.shutdown(context=context)


def _refused(declare) -> bool:
    try:
        declare()
    except (ValueError, InvalidParameterValueException):
        return True
    return False


@pytest.mark.parametrize(
    ("name", "value", "descriptor", "default", "refused"),
    [
        ("rate_hz", 0.5, RATE, 20.0, True),
        ("rate_hz", 1.0, RATE, 20.0, False),
        ("rate_hz", 100.0, RATE, 20.0, False),
        ("rate_hz", 100.5, RATE, 20.0, True),
        ("rate_hz", -3.0, RATE, 20.0, True),
        ("priority", 1001, PRIORITY, 10, True),
        ("priority", 0, PRIORITY, 10, False),
        ("priority", -1, PRIORITY, 10, True),
    ],
)
def test_a_given_value_is_refused_exactly_when_a_node_refuses_it(
    node, name, value, descriptor, default, refused
):
    real = node(name, value)
    assert _refused(lambda: real.declare_parameter(name, default, descriptor)) == refused
    given = GivenParameters({name: value})
    assert _refused(lambda: given.declare_parameter(name, default, descriptor)) == refused


def test_the_refusal_names_the_parameter_and_its_range():
    with pytest.raises(ValueError, match=r"rate_hz = 0.5 is outside its range \[1, 100\]"):
        GivenParameters({"rate_hz": 0.5}).declare_parameter("rate_hz", 20.0, RATE)


def test_an_unset_parameter_takes_the_default_and_a_set_one_its_value():
    given = GivenParameters({"rate_hz": 7.5})
    assert given.declare_parameter("rate_hz", 20.0, RATE).value == 7.5
    assert given.declare_parameter("other", 3).value == 3
