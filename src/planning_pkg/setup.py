from setuptools import find_packages, setup

package_name = "planning_pkg"

setup(
    name=package_name,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", ["resource/" + package_name]),
        ("share/" + package_name, ["package.xml"]),
    ],
    install_requires=["setuptools"],
    zip_safe=True,
    maintainer="Root&Route developers",
    maintainer_email="dev@rootroute.kr",
    description="Occupancy grids, global planner, path follower, arm kinematics, pick and place.",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "occupancy_map = planning_pkg.nodes.map_node:main",
            "global_planner = planning_pkg.nodes.planner_node:main",
            "path_follower = planning_pkg.nodes.follower_node:main",
            "arm_commander = planning_pkg.nodes.arm_node:main",
        ],
    },
)
