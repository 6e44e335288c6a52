# Embedded MuJoCo simulator + ROS bridge, optionally with a student's graph next to it.
#
# For a full ROS 2 install (Humble or Jazzy, with `launch` and `launch_ros`), e.g. the Gazebo CI
# image or a teacher's desktop, after `colcon build` and sourcing install/setup.bash:
#
#   ros2 launch launch/embedded_sim.launch.py real_time_factor:=2.0 \
#       student_launch:=install/station_runner/share/station_runner/launch/plating_stations.launch.yaml
#
# Where `launch` is missing (pip-installed ROS), `rootroute sim SCENARIO --rtf X --seed N` starts the
# same bridge with the same parameters; the grader (`rootroute grade`) starts the student graph itself.
import os

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, GroupAction, IncludeLaunchDescription
from launch.conditions import IfCondition
from launch.launch_description_sources import AnyLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PythonExpression
from launch_ros.actions import Node, SetParameter
from launch_ros.parameter_descriptions import ParameterValue

# sim_pkg does not install scenarios, so the default is found in this checkout, next to launch/.
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SCENARIO = os.path.join(
    REPO_ROOT, "src", "curriculum_pkg", "scenarios", "banwol_plating_01.yaml"
)


def generate_launch_description():
    scenario = LaunchConfiguration("scenario")
    robot_profile = LaunchConfiguration("robot_profile")
    real_time_factor = LaunchConfiguration("real_time_factor")
    seed = LaunchConfiguration("seed")
    student_launch = LaunchConfiguration("student_launch")

    bridge = Node(
        package="sim_pkg",
        executable="bridge",
        name="sim_bridge",
        output="screen",
        # Typed explicitly: `real_time_factor:=2` on the command line would otherwise arrive as an
        # int and be rejected by the bridge's double parameter.
        parameters=[
            {
                "scenario": ParameterValue(scenario, value_type=str),
                "robot_profile": ParameterValue(robot_profile, value_type=str),
                "real_time_factor": ParameterValue(real_time_factor, value_type=float),
                "seed": ParameterValue(seed, value_type=int),
            }
        ],
    )

    # The student's nodes follow the bridge's /clock, as they do under the grader. The group keeps
    # use_sim_time away from the bridge, which owns the clock.
    student_graph = GroupAction(
        condition=IfCondition(PythonExpression(["'", student_launch, "' != ''"])),
        actions=[
            SetParameter(name="use_sim_time", value=True),
            IncludeLaunchDescription(AnyLaunchDescriptionSource(student_launch)),
        ],
    )

    return LaunchDescription(
        [
            DeclareLaunchArgument(
                "scenario",
                default_value=DEFAULT_SCENARIO,
                description="Scenario YAML file (default: the Banwol plating scenario of this checkout)",
            ),
            DeclareLaunchArgument(
                "robot_profile",
                default_value="turtlebot3_waffle_pi_omx",
                description="Robot profile name from config/robots",
            ),
            DeclareLaunchArgument(
                "real_time_factor",
                default_value="1.0",
                description="Simulated seconds per wall-clock second (1.0 = real time)",
            ),
            DeclareLaunchArgument(
                "seed", default_value="0", description="Seed of the scenario's randomization"
            ),
            DeclareLaunchArgument(
                "student_launch",
                default_value="",
                description="Student YAML launch file to start next to the simulator (empty = none)",
            ),
            bridge,
            student_graph,
        ]
    )
