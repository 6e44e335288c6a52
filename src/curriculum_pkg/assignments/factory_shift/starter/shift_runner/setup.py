from glob import glob

from setuptools import setup

package_name = "shift_runner"

setup(
    name=package_name,
    version="1.0.0",
    packages=[package_name],
    data_files=[
        ("share/ament_index/resource_index/packages", ["resource/" + package_name]),
        ("share/" + package_name, ["package.xml"]),
        ("share/" + package_name + "/launch", glob("launch/*.launch.yaml")),
    ],
    install_requires=["setuptools"],
    zip_safe=True,
    maintainer="Root&Route developers",
    maintainer_email="dev@rootroute.kr",
    description="Starter package of the factory shift.",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "shift_controller = shift_runner.shift_controller_node:main",
            "inspection_reporter = shift_runner.reporter_node:main",
        ]
    },
)
