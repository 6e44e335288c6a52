# Gazebo (gz sim Harmonic) with a Root&Route scenario and ROBOTIS's TurtleBot3 Waffle Pi, for a full
# ROS 2 Jazzy install with ros_gz and turtlebot3_simulations (docker/Dockerfile.gazebo-ci), after
# `colcon build` and sourcing install/setup.bash:
#
#   ros2 launch launch/gazebo_sim.launch.py scenario:=src/curriculum_pkg/scenarios/sihwa_logistics_01.yaml
#   ros2 launch launch/gazebo_sim.launch.py gui:=true \
#       student_launch:=install/station_runner/share/station_runner/launch/plating_stations.launch.yaml
#
# At launch, sim_pkg writes the scenario's world (world.sdf and its ArUco marker PNGs, into
# world_dir) from the same YAML the embedded simulator reads. Gazebo runs it headless (gui:=true adds
# the window), ROBOTIS's model is spawned at the scenario's robot_start with `ros_gz_sim create`, and
# ros_gz_bridge carries the robot's topics under the names of the robot profile
# (config/gazebo/bridge.yaml): /cmd_vel (TwistStamped), /odom, /tf, /scan, /camera/image_raw,
# /camera/camera_info, /joint_states and /clock.
#
# Unlike the embedded simulator: ROBOTIS's Waffle Pi model carries no OpenMANIPULATOR-X, so nothing
# takes /arm_controller/joint_trajectory or /gripper_controller/commands here. Pick-and-place
# scenarios run in the embedded simulator (`rootroute sim`, launch/embedded_sim.launch.py).
# To write a world without launching anything: `rootroute scenario sdf SCENARIO -o DIR`.
import os
import tempfile

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import (
    AppendEnvironmentVariable,
    DeclareLaunchArgument,
    GroupAction,
    IncludeLaunchDescription,
    OpaqueFunction,
    SetEnvironmentVariable,
)
from launch.conditions import IfCondition
from launch.launch_description_sources import (
    AnyLaunchDescriptionSource,
    PythonLaunchDescriptionSource,
)
from launch.substitutions import LaunchConfiguration, PythonExpression
from launch_ros.actions import Node, SetParameter

# sim_pkg does not install scenarios, so the default is found in this checkout, next to launch/.
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SCENARIO = os.path.join(
    REPO_ROOT, "src", "curriculum_pkg", "scenarios", "banwol_plating_01.yaml"
)
BRIDGE_CONFIG = os.path.join(REPO_ROOT, "config", "gazebo", "bridge.yaml")
TURTLEBOT3_MODEL = "waffle_pi"  # ROBOTIS's model name (TURTLEBOT3_MODEL), without the arm
ROBOT_ENTITY = "turtlebot3_waffle_pi"
SPAWN_Z_M = 0.01  # as ROBOTIS's spawn_turtlebot3.launch.py: just above the floor


def prepare_world(scenario, world_dir):
    """Write the scenario's Gazebo world; return (world file, world name, robot start pose)."""
    from common_pkg.worldspec import load_world
    from sim_pkg.sdf import world_name_for, write_sdf_world

    name = world_name_for(scenario)
    world_dir = world_dir or os.path.join(tempfile.gettempdir(), "rootroute_gazebo", name)
    world = write_sdf_world(scenario, world_dir)
    return str(world), name, load_world(scenario).robot_start


def _gazebo_and_robot(context):
    world, name, start = prepare_world(
        LaunchConfiguration("scenario").perform(context),
        LaunchConfiguration("world_dir").perform(context),
    )
    ros_gz_sim = get_package_share_directory("ros_gz_sim")
    tb3_models = os.path.join(get_package_share_directory("turtlebot3_gazebo"), "models")
    return [
        # The world's PNG textures, and the meshes ROBOTIS's model names as model://...
        AppendEnvironmentVariable("GZ_SIM_RESOURCE_PATH", os.path.dirname(world)),
        AppendEnvironmentVariable("GZ_SIM_RESOURCE_PATH", tb3_models),
        IncludeLaunchDescription(
            PythonLaunchDescriptionSource(os.path.join(ros_gz_sim, "launch", "gz_sim.launch.py")),
            launch_arguments={"gz_args": f"-r -s -v2 {world}", "on_exit_shutdown": "true"}.items(),
        ),
        Node(
            package="ros_gz_sim",
            executable="create",
            arguments=[
                "-world",
                name,
                "-name",
                ROBOT_ENTITY,
                "-file",
                os.path.join(tb3_models, ROBOT_ENTITY, "model.sdf"),
                "-x",
                f"{start.x:.4f}",
                "-y",
                f"{start.y:.4f}",
                "-z",
                f"{SPAWN_Z_M}",
                "-Y",
                f"{start.yaw:.4f}",
            ],
            output="screen",
        ),
    ]


def generate_launch_description():
    use_sim_time = {"use_sim_time": True}
    gui = LaunchConfiguration("gui")
    student_launch = LaunchConfiguration("student_launch")
    tb3_launch = os.path.join(get_package_share_directory("turtlebot3_gazebo"), "launch")
    gz_sim_launch = os.path.join(
        get_package_share_directory("ros_gz_sim"), "launch", "gz_sim.launch.py"
    )

    bridge = Node(
        package="ros_gz_bridge",
        executable="parameter_bridge",
        name="gz_bridge",
        parameters=[{"config_file": BRIDGE_CONFIG, **use_sim_time}],
        output="screen",
    )
    # /robot_description and the robot's fixed frames (base_link, base_scan, camera), from ROBOTIS.
    robot_state_publisher = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(os.path.join(tb3_launch, "robot_state_publisher.launch.py")),
        launch_arguments={"use_sim_time": "true"}.items(),
    )
    gazebo_window = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(gz_sim_launch),
        launch_arguments={"gz_args": "-g -v2", "on_exit_shutdown": "true"}.items(),
        condition=IfCondition(gui),
    )
    # The student's nodes follow Gazebo's /clock, as they follow the embedded simulator's.
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
                "world_dir",
                default_value="",
                description="Folder for the generated world.sdf and textures "
                "(default: <tmp>/rootroute_gazebo/<scenario>)",
            ),
            DeclareLaunchArgument(
                "gui", default_value="false", description="Also open the Gazebo window"
            ),
            DeclareLaunchArgument(
                "student_launch",
                default_value="",
                description="Student YAML launch file to start next to Gazebo (empty = none)",
            ),
            SetEnvironmentVariable("TURTLEBOT3_MODEL", TURTLEBOT3_MODEL),
            OpaqueFunction(function=_gazebo_and_robot),
            gazebo_window,
            robot_state_publisher,
            bridge,
            student_graph,
        ]
    )
