from setuptools import find_packages, setup

package_name = "sim_pkg"

setup(
    name=package_name,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    # The live view's page (sim_pkg/liveview/static): served from the installed package.
    package_data={"sim_pkg.liveview": ["static/*.html", "static/*.js", "static/*.css"]},
    data_files=[
        ("share/ament_index/resource_index/packages", ["resource/" + package_name]),
        ("share/" + package_name, ["package.xml"]),
    ],
    install_requires=["setuptools"],
    zip_safe=True,
    maintainer="Root&Route developers",
    maintainer_email="dev@rootroute.kr",
    description="Embedded MuJoCo simulator of the lab robot and its ROS 2 bridge node.",
    license="Apache-2.0",
    entry_points={
        "console_scripts": ["bridge = sim_pkg.nodes.bridge_node:main"],
    },
)
