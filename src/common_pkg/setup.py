from pathlib import Path

from setuptools import find_packages, setup

package_name = "common_pkg"
# The repository's config/ (robot profiles, DDS profiles, parameter files) stays its only copy:
# ./config is a link to it. colcon installs it as share/common_pkg/config, where
# common_pkg.profile.config_dir finds it. (A path inside the package: `colcon build
# --symlink-install` mirrors every data file's path below its build folder.)
CONFIG = Path("config")


def data_tree(source: Path, dest: str) -> list[tuple[str, list[str]]]:
    """data_files entries that install every file under `source` below `dest`, keeping the tree."""
    folders: dict[str, list[str]] = {}
    for path in sorted(source.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            folder = Path(dest) / path.parent.relative_to(source)
            folders.setdefault(folder.as_posix(), []).append(path.as_posix())
    return list(folders.items())


setup(
    name=package_name,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", ["resource/" + package_name]),
        ("share/" + package_name, ["package.xml"]),
        *data_tree(CONFIG, f"share/{package_name}/config"),
    ],
    install_requires=["setuptools"],
    zip_safe=True,
    maintainer="Root&Route developers",
    maintainer_email="dev@rootroute.kr",
    description="Robot profiles, the scenario world, located errors and /cmd_vel helpers, without MuJoCo.",
    license="Apache-2.0",
)
