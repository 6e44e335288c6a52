from setuptools import find_packages, setup

package_name = "curriculum_pkg"

setup(
    name=package_name,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    package_data={"curriculum_pkg.reports": ["templates/*.j2"]},  # the reports' Jinja2 templates
    data_files=[
        ("share/ament_index/resource_index/packages", ["resource/" + package_name]),
        ("share/" + package_name, ["package.xml"]),
    ],
    install_requires=["setuptools"],
    zip_safe=True,
    maintainer="Root&Route developers",
    maintainer_email="dev@rootroute.kr",
    description="Scenarios, assignments, the sandboxed grader, scoring, reports and the rootroute CLI.",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "rootroute = curriculum_pkg.cli:main",
            "recorder = curriculum_pkg.nodes.recorder_node:main",
        ],
    },
)
