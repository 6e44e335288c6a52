from pathlib import Path

from setuptools import find_packages, setup

package_name = "curriculum_pkg"


def data_tree(source: str, dest: str) -> list[tuple[str, list[str]]]:
    """data_files entries that install every file under `source` below `dest`, keeping the tree.

    The scenario library and the assignments (starter and reference packages included) are data:
    colcon installs them as share/curriculum_pkg/..., found there through the ament index.
    """
    folders: dict[str, list[str]] = {}
    for path in sorted(Path(source).rglob("*")):
        skipped = any(p == "__pycache__" or p.endswith(".egg-info") for p in path.parts)
        if path.is_file() and not skipped:
            folder = Path(dest) / path.parent.relative_to(source)
            folders.setdefault(folder.as_posix(), []).append(path.as_posix())
    return list(folders.items())


setup(
    name=package_name,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    package_data={"curriculum_pkg.reports": ["templates/*.j2"]},  # the reports' Jinja2 templates
    data_files=[
        ("share/ament_index/resource_index/packages", ["resource/" + package_name]),
        ("share/" + package_name, ["package.xml"]),
        *data_tree("scenarios", f"share/{package_name}/scenarios"),
        *data_tree("assignments", f"share/{package_name}/assignments"),
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
