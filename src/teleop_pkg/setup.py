from setuptools import find_packages, setup

package_name = "teleop_pkg"

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
    description="Keyboard and gamepad teleop behind a safety mux.",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "teleop_keyboard = teleop_pkg.nodes.teleop_keyboard_node:main",
            "teleop_joy = teleop_pkg.nodes.teleop_joy_node:main",
            "safety_mux = teleop_pkg.nodes.safety_mux_node:main",
            "input_player = teleop_pkg.nodes.input_player_node:main",
        ],
    },
)
