"""`rootroute new-assignment`: a new assignment folder from a scenario, ready to grade.

It writes `assignment.yaml` (the required graph follows from the scenario's task kinds), and a
starter package whose node already has every required topic wired, publishes what must stream,
and does nothing useful: graded as it is, it earns the graph points and nothing else. The
teacher then writes the titles and description (marked TODO in both languages), adds a
reference solution next to the starter, and tunes variants and the rubric.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from curriculum_pkg.errors import AssignmentError
from curriculum_pkg.scenario import (
    Scenario,
    list_scenarios,
    load_scenario,
    resolve_scenario_path,
)

NODE = "mission_controller"
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{2,40}$")


@dataclass(frozen=True)
class Topic:
    name: str
    type: str  # pkg/msg/Type
    min_rate_hz: float = 0.0
    latched: bool = False  # subscribed transient-local (the grader's mission topics)


def required_topics(scenario: Scenario) -> tuple[list[Topic], list[Topic]]:
    """(publishes, subscribes) of the student's node, from what the scenario's tasks need."""
    kinds = {task.kind for task in scenario.tasks}
    publishes: list[Topic] = []
    subscribes = [
        Topic("/odom", "nav_msgs/msg/Odometry"),
        Topic("/mission/waypoints", "geometry_msgs/msg/PoseArray", latched=True),
        Topic("/mission/steps", "std_msgs/msg/String", latched=True),
    ]
    if kinds & {"navigate", "inspect", "pick", "place"}:  # every task starts by getting there
        publishes.append(Topic("/cmd_vel", "geometry_msgs/msg/TwistStamped", min_rate_hz=5.0))
        subscribes.append(Topic("/scan", "sensor_msgs/msg/LaserScan"))
    if kinds & {"pick", "place"}:
        publishes += [
            Topic("/arm_controller/joint_trajectory", "trajectory_msgs/msg/JointTrajectory"),
            Topic("/gripper_controller/commands", "std_msgs/msg/Float64MultiArray"),
        ]
        subscribes.append(Topic("/joint_states", "sensor_msgs/msg/JointState"))
    if "inspect" in kinds:
        publishes.append(Topic("/inspection/report", "diagnostic_msgs/msg/KeyValue"))
        subscribes.append(Topic("/camera/image_raw", "sensor_msgs/msg/Image"))
    return publishes, subscribes


def new_assignment(assignment_id: str, scenario_ref: str, out_root: Path) -> Path:
    """Write <out_root>/<assignment_id>/ and return that folder. Raises AssignmentError."""
    if not ID_PATTERN.match(assignment_id):
        raise AssignmentError(
            assignment_id,
            "an assignment id is 3-41 characters: lower-case letters, digits and _, starting "
            "with a letter (it also names the starter's Python package)",
            "과제 ID는 영문 소문자로 시작하고 소문자·숫자·_만 쓰는 3~41자입니다 "
            "(시작 패키지의 파이썬 패키지 이름으로도 쓰입니다)",
        )
    if not resolve_scenario_path(scenario_ref).is_file():
        known = ", ".join(path.stem for path in list_scenarios())
        raise AssignmentError(
            scenario_ref,
            f"no such scenario: give a library id ({known}) or a .yaml path",
            f"시나리오를 찾을 수 없습니다. 라이브러리 ID({known})나 .yaml 파일 경로를 주세요",
        )
    scenario = load_scenario(scenario_ref)  # a located ScenarioError if it is malformed
    folder = Path(out_root) / assignment_id
    if folder.exists():
        raise AssignmentError(
            str(folder),
            "this folder already exists; choose another id or remove it",
            "이 폴더가 이미 있습니다. 다른 ID를 쓰거나 폴더를 지우세요",
        )
    publishes, subscribes = required_topics(scenario)
    package = f"{assignment_id}_pkg"
    starter = folder / "starter" / package
    (starter / package).mkdir(parents=True)
    (starter / "launch").mkdir()
    (starter / "resource").mkdir()
    (starter / "resource" / package).write_text("")
    (starter / package / "__init__.py").write_text("")
    (starter / package / f"{NODE}_node.py").write_text(_node_source(publishes, subscribes))
    (starter / "setup.py").write_text(_SETUP.format(package=package, node=NODE))
    (starter / "setup.cfg").write_text(_SETUP_CFG.format(package=package))
    (starter / "package.xml").write_text(
        _PACKAGE_XML.format(
            package=package,
            depends="\n".join(
                f"  <exec_depend>{pkg}</exec_depend>"
                for pkg in sorted({t.type.split("/")[0] for t in publishes + subscribes})
            ),
        )
    )
    launch_name = f"{assignment_id}.launch.yaml"
    (starter / "launch" / launch_name).write_text(_LAUNCH.format(package=package, node=NODE))
    (folder / "assignment.yaml").write_text(
        _assignment_yaml(assignment_id, scenario, scenario_ref, launch_name, publishes, subscribes)
    )
    return folder


def _assignment_yaml(assignment_id, scenario, scenario_ref, launch_name, publishes, subscribes):
    ref = str(Path(scenario_ref).resolve()) if scenario_ref.endswith(".yaml") else scenario_ref
    data = {
        "schema_version": 1,
        "id": assignment_id,
        "title": {
            "ko": f"TODO 과제 제목 ({scenario.title['ko']})",
            "en": f"TODO assignment title ({scenario.title['en']})",
        },
        "description": {
            "ko": "TODO: 학생이 작성할 노드와 지켜야 할 토픽을 설명하세요.",
            "en": "TODO: describe the node students write and the topics it must keep.",
        },
        "launch_file": launch_name,
        "real_time_factor": 4.0,
        "pass_mark": 60,
        "startup_timeout_s": 30,
        "mission_topic": "/mission/waypoints",
        "graph": {
            "nodes": [
                {
                    "name": f"/{NODE}",
                    "publishes": [_topic_entry(t) for t in publishes],
                    "subscribes": [_topic_entry(t) for t in subscribes],
                }
            ]
        },
        # variant 0 is the scenario as written (visible); the others are hidden, seeded variants
        "scenarios": [{"scenario": ref, "variants": 3, "seed": 2026}],
        "rubric": {"graph": 20, "task": 50, "safety": 20, "efficiency": 10},
        "starter": "starter",
    }
    header = (
        f"# {assignment_id}: made by `rootroute new-assignment` from scenario {scenario.id}.\n"
        "# Fill in the TODOs, add a reference solution (reference: reference), then check it with\n"
        f"#   rootroute grade <this folder>/starter -a <this folder>/assignment.yaml\n"
    )
    return header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def _topic_entry(topic: Topic) -> dict:
    entry: dict = {"topic": topic.name, "type": topic.type}
    if topic.min_rate_hz:
        entry["min_rate_hz"] = topic.min_rate_hz
    return entry


def _node_source(publishes: list[Topic], subscribes: list[Topic]) -> str:
    imports: dict[str, set[str]] = {
        "rclpy.executors": {"ExternalShutdownException"},
        "rclpy.node": {"Node"},
        "rclpy.qos": {"DurabilityPolicy", "QoSProfile", "qos_profile_sensor_data"},
    }
    for topic in publishes + subscribes:
        pkg, _, name = topic.type.split("/")
        imports.setdefault(f"{pkg}.msg", set()).add(name)
    import_lines = "\n".join(  # one block, in the order ruff's isort keeps it
        ["import rclpy"]
        + [
            f"from {mod} import {', '.join(sorted(names))}"
            for mod, names in sorted(imports.items())
        ]
    )
    pubs = "\n".join(
        _call(f"self.{_attr(t)}_pub = self.create_publisher", [_cls(t), f'"{t.name}"', "10"])
        for t in publishes
    )
    subs = "\n".join(
        _call(
            "self.create_subscription",
            [
                _cls(t),
                f'"{t.name}"',
                f"self.on_{_attr(t)}",
                "latched" if t.latched else "qos_profile_sensor_data",
            ],
        )
        for t in subscribes
    )
    callbacks = "\n\n".join(
        f"    def on_{_attr(t)}(self, msg: {_cls(t)}) -> None:\n        self.{_attr(t)} = msg"
        for t in subscribes
    )
    state = "\n".join(f"        self.{_attr(t)} = None" for t in subscribes)
    control = (
        "        msg = TwistStamped()\n"
        "        msg.header.stamp = self.get_clock().now().to_msg()\n"
        "        # TODO: 여기서 로봇을 움직이세요 / drive the robot here (msg.twist.linear.x, ...)\n"
        "        self.cmd_vel_pub.publish(msg)"
        if any(t.name == "/cmd_vel" and t.min_rate_hz for t in publishes)
        else "        pass  # TODO: 여기서 임무를 진행하세요 / run the mission here"
    )
    return _NODE.format(
        node=NODE,
        imports=import_lines,
        pubs=pubs,
        subs=subs,
        state=state,
        callbacks=callbacks,
        control=control,
    )


def _call(head: str, args: list[str]) -> str:
    """A call at 8 spaces of indent, wrapped one argument a line when it passes 99 columns."""
    line = f"        {head}({', '.join(args)})"
    if len(line) <= 99:
        return line
    inner = "".join(f"            {arg},\n" for arg in args)
    return f"        {head}(\n{inner}        )"


def _attr(topic: Topic) -> str:
    return topic.name.strip("/").replace("/", "_")


def _cls(topic: Topic) -> str:
    return topic.type.rsplit("/", 1)[1]


_NODE = '''"""{node} (시작 코드 / starter): 토픽 연결은 끝나 있습니다. control()을 채워 보세요.

The wiring is done: every topic the assignment requires is published or subscribed here, and
control() runs ten times a second. Right now it does nothing useful. Fill it in.
"""

{imports}


class MissionController(Node):
    def __init__(self):
        super().__init__("{node}")
        # 채점기의 임무 토픽은 래치(transient local)로 한 번 발행됩니다 / the mission is latched.
        latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
{state}
{pubs}
{subs}
        self.create_timer(0.1, self.control)

{callbacks}

    def control(self) -> None:
{control}


def main(args=None):
    rclpy.init(args=args)
    node = MissionController()
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
'''

_SETUP = """from glob import glob

from setuptools import setup

package_name = "{package}"

setup(
    name=package_name,
    version="0.1.0",
    packages=[package_name],
    data_files=[
        ("share/ament_index/resource_index/packages", ["resource/" + package_name]),
        ("share/" + package_name, ["package.xml"]),
        ("share/" + package_name + "/launch", glob("launch/*.launch.yaml")),
    ],
    install_requires=["setuptools"],
    zip_safe=True,
    maintainer="TODO",
    maintainer_email="todo@example.com",
    description="Starter package: fill in the {node} node.",
    license="Apache-2.0",
    entry_points={{
        "console_scripts": [
            "{node} = {package}.{node}_node:main",
        ],
    }},
)
"""

_SETUP_CFG = """[develop]
script_dir=$base/lib/{package}
[install]
install_scripts=$base/lib/{package}
"""

_PACKAGE_XML = """<?xml version="1.0"?>
<?xml-model href="http://download.ros.org/schema/package_format3.xsd" schematypens="http://www.w3.org/2001/XMLSchema"?>
<package format="3">
  <name>{package}</name>
  <version>0.1.0</version>
  <description>Starter package (made by rootroute new-assignment).</description>
  <maintainer email="todo@example.com">TODO</maintainer>
  <license>Apache-2.0</license>

  <exec_depend>rclpy</exec_depend>
{depends}

  <export>
    <build_type>ament_python</build_type>
  </export>
</package>
"""

_LAUNCH = """# 채점기는 여기 적힌 노드를 실행합니다. 실습실 로봇에서는 `ros2 launch`가 같은 파일을 씁니다.
# The grader runs the nodes listed here; `ros2 launch` runs the same file on the lab robot.
launch:
  - node:
      pkg: {package}
      exec: {node}
      name: {node}
"""
