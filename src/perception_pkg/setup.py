from setuptools import find_packages, setup

package_name = "perception_pkg"

setup(
    name=package_name,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    # The shipped ONNX model and its model card install with the code (pip and colcon alike).
    package_data={package_name: ["models/*.onnx", "models/*.json"]},
    data_files=[
        ("share/ament_index/resource_index/packages", ["resource/" + package_name]),
        ("share/" + package_name, ["package.xml"]),
    ],
    install_requires=["setuptools"],
    zip_safe=True,
    maintainer="Root&Route developers",
    maintainer_email="dev@rootroute.kr",
    description="Camera and lidar processing, ArUco markers and ONNX inference.",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "marker_detector = perception_pkg.nodes.marker_detector_node:main",
            "scan_processor = perception_pkg.nodes.scan_processor_node:main",
            "pcb_inspector = perception_pkg.nodes.inspector_node:main",
        ],
    },
)
