"""Where a package's data (config/, scenarios/, assignments/) is: installed, or in the checkout.

Built with colcon, a package's data is installed under ``<prefix>/share/<package>/`` and found
through the ament index, like any ROS 2 package's (``ros2 run`` on the lab robot: no source tree, no
environment variable). Installed with ``pip install -e`` (a laptop, CI), the code runs from the
repository and its data is read where it is kept, in the source tree.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path


def package_data_dir(package: str, name: str, source_dir: Path) -> Path:
    """`package`'s data folder `name`: in its ament share folder, else `source_dir`.

    The share folder counts only when the package's own code runs from that same install prefix:
    a checkout used next to a sourced workspace keeps reading its own (perhaps edited) data.
    """
    try:
        from ament_index_python.packages import PackageNotFoundError, get_package_prefix
    except ImportError:  # common_pkg without ROS at all (a core used on its own)
        return source_dir
    try:
        prefix = Path(get_package_prefix(package)).resolve()
    except (PackageNotFoundError, OSError, ValueError):  # not in $AMENT_PREFIX_PATH, or it is unset
        return source_dir
    spec = importlib.util.find_spec(package)
    code = Path(spec.origin).resolve() if spec is not None and spec.origin else None
    if code is not None and prefix in code.parents:
        return prefix / "share" / package / name
    return source_dir
