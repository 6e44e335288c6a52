from glob import glob

from setuptools import setup

package_name = "sensor_readings"

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
    description="Assignment 1: read the lidar and the odometry.",
    license="Apache-2.0",
    entry_points={"console_scripts": ["sensor_reporter = sensor_readings.reporter_node:main"]},
)
