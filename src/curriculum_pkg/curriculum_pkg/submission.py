"""A student submission: find its packages and launch file, install them into a per-run prefix."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from xml.etree import ElementTree

from curriculum_pkg.errors import SubmissionError
from curriculum_pkg.launchfile import NodeSpec, parse_launch_file
from curriculum_pkg.sandbox import Limits, Sandbox

INSTALL_TIMEOUT_S = 180
MAX_FILES = 5000  # a submission is source code: a few packages, some launch and config files
MAX_BYTES = 100 << 20  # small models and images fit; data sets do not
# The platform's own node packages: a launch file may start their nodes next to the student's
# (e.g. planning_pkg's arm_commander), as `ros2 launch` would on a lab robot that has them built.
PLATFORM_PACKAGES = ("planning_pkg", "perception_pkg", "teleop_pkg")
RESERVED_PACKAGES = (*PLATFORM_PACKAGES, "sim_pkg", "curriculum_pkg")  # never the student's


@dataclass(frozen=True)
class Executable:
    """How to start one node: the Python module and function behind its console script."""

    module: str
    function: str


@dataclass(frozen=True)
class InstalledSubmission:
    root: Path
    prefix: Path
    launch_file: Path
    nodes: tuple[NodeSpec, ...]
    executables: dict[tuple[str, str], Executable]  # (pkg, exec) -> entry point


def check_files(root: Path) -> None:
    """Only regular files and folders, within size limits. The grader reads and copies the
    submission outside the sandbox: a symbolic link could make it read (and echo into a report)
    a file the student may not see, such as a hidden scenario; a huge tree could fill the disk."""
    total_bytes = files = 0
    for folder, dirs, names in os.walk(root):  # does not follow links to folders
        for name in dirs + names:
            path = Path(folder) / name
            where = str(path.relative_to(root))
            if path.is_symlink():
                raise SubmissionError(
                    where,
                    "symbolic links are not allowed in a submission: put the file itself there",
                    "제출물에는 심볼릭 링크를 넣을 수 없습니다. 링크 대신 파일 자체를 넣으세요",
                )
            if name in names and not path.is_file():
                raise SubmissionError(
                    where,
                    "only regular files and folders are allowed in a submission",
                    "제출물에는 일반 파일과 폴더만 넣을 수 있습니다",
                )
        files += len(names)
        total_bytes += sum((Path(folder) / name).stat().st_size for name in names)
        if files > MAX_FILES or total_bytes > MAX_BYTES:
            raise SubmissionError(
                str(root),
                f"the submission is too large (more than {MAX_FILES} files or "
                f"{MAX_BYTES >> 20} MiB): leave out data sets, logs and build output",
                f"제출물이 너무 큽니다 (파일 {MAX_FILES}개 또는 {MAX_BYTES >> 20} MiB 초과). "
                "데이터셋, 로그, 빌드 결과물은 빼고 제출하세요",
            )


def find_packages(root: Path) -> dict[str, Path]:
    """ament_python packages in the submission: folders holding package.xml and setup.py."""
    found: dict[str, Path] = {}
    for xml in sorted(root.rglob("package.xml")):
        folder = xml.parent
        try:
            name = ElementTree.parse(xml).getroot().findtext("name", "").strip()
        except ElementTree.ParseError as exc:
            raise SubmissionError(
                f"{xml.relative_to(root)}:{exc.position[0]}",
                f"package.xml is not valid XML: {exc}",
                f"package.xml이 올바른 XML이 아닙니다: {exc}",
            ) from None
        if not name:
            raise SubmissionError(
                str(xml.relative_to(root)),
                "package.xml has no <name>",
                "package.xml에 <name>이 없습니다",
            )
        if not (folder / "setup.py").is_file():
            raise SubmissionError(
                str(xml.relative_to(root)),
                f"package {name} has no setup.py (ament_python packages need one)",
                f"패키지 {name}에 setup.py가 없습니다 (ament_python 패키지에는 꼭 필요합니다)",
            )
        if name in RESERVED_PACKAGES:
            raise SubmissionError(
                str(xml.relative_to(root)),
                f"package name {name} belongs to the platform: name your package differently "
                "(launch the platform's nodes from your launch file instead)",
                f"패키지 이름 {name}은(는) 플랫폼 패키지 이름입니다. 다른 이름을 쓰세요 "
                "(플랫폼 노드는 launch 파일에서 실행하면 됩니다)",
            )
        if name in found:
            raise SubmissionError(
                str(xml.relative_to(root)),
                f"package {name} appears twice",
                f"패키지 {name}이(가) 두 번 있습니다",
            )
        found[name] = folder
    if not found:
        raise SubmissionError(
            str(root),
            "no ROS 2 package found (no package.xml)",
            "ROS 2 패키지가 없습니다 (package.xml을 찾지 못했습니다)",
        )
    return found


def check_platform_nodes(nodes: tuple[NodeSpec, ...], required) -> None:
    """A required node that the platform provides (the assignment's `provided_by`, e.g. the
    safety mux) must be started from the platform's package, not replaced by the student's."""
    for req in required:
        if req.provided_by is None:
            continue
        pkg, exe = req.provided_by
        for spec in nodes:
            if spec.fqn == req.name and (spec.pkg, spec.executable) != (pkg, exe):
                raise SubmissionError(
                    spec.location,
                    f"node {req.name} must be the platform's own ({pkg} {exe}), "
                    f"not {spec.pkg} {spec.executable}",
                    f"노드 {req.name}은(는) 플랫폼이 제공하는 노드({pkg} {exe})로 실행해야 합니다 "
                    f"({spec.pkg} {spec.executable}(으)로 바꿀 수 없습니다)",
                )


def find_launch_file(root: Path, name: str) -> Path:
    matches = sorted(p for p in root.rglob(name) if p.is_file())
    if not matches:
        raise SubmissionError(
            str(root),
            f"launch file {name} not found; put it in <your package>/launch/{name}",
            f"launch 파일 {name}이(가) 없습니다. <패키지>/launch/{name} 위치에 두세요",
        )
    if len(matches) > 1:
        shown = ", ".join(str(m.relative_to(root)) for m in matches)
        raise SubmissionError(
            str(root),
            f"launch file {name} found more than once: {shown}",
            f"launch 파일 {name}이(가) 여러 개 있습니다: {shown}",
        )
    return matches[0]


def _install(pkg: str, folder: Path, prefix: Path, log: Path, where: str, sandbox: Sandbox) -> None:
    """pip-install one package folder into `prefix`; `where` locates errors (the student's setup.py).

    The build runs the student's setup.py, so it runs in the sandbox too: it sees its own
    source copy and the prefix (both writable), the system and Python read-only, nothing else.
    """
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--no-deps",
        "--no-build-isolation",
        "--no-input",
        "--disable-pip-version-check",
        "--no-index",
        "--no-cache-dir",
        "--target",
        str(prefix),
        "--upgrade",
        str(folder),
    ]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": "/tmp/home" if sandbox.bwrap is not None else str(folder),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    cmd = sandbox.command(
        cmd, env=env, limits=Limits(cpu_s=INSTALL_TIMEOUT_S), writable=(folder, prefix)
    )
    try:
        result = subprocess.run(
            cmd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, env=env, cwd=folder
        )
    except subprocess.TimeoutExpired:
        raise SubmissionError(
            where,
            f"installing package {pkg} took longer than {INSTALL_TIMEOUT_S} s",
            f"패키지 {pkg} 설치가 {INSTALL_TIMEOUT_S}초 안에 끝나지 않았습니다",
        ) from None
    log.write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-6:])
        raise SubmissionError(
            where,
            f"package {pkg} failed to install:\n{tail}",
            f"패키지 {pkg} 설치에 실패했습니다 (setup.py를 확인하세요):\n{tail}",
        )


def install_submission(
    root: Path, launch_name: str, prefix: Path, log_dir: Path, sandbox: Sandbox
) -> InstalledSubmission:
    root = Path(root).resolve()
    if not root.is_dir():
        raise SubmissionError(str(root), "submission folder does not exist", "제출 폴더가 없습니다")
    check_files(root)
    launch_file = find_launch_file(root, launch_name)
    nodes = tuple(parse_launch_file(launch_file))
    packages = find_packages(root)
    for spec in nodes:
        if spec.pkg not in packages and spec.pkg not in PLATFORM_PACKAGES:
            raise SubmissionError(
                spec.location,
                f"node {spec.fqn} uses package {spec.pkg}, which is neither in the submission "
                f"(found: {', '.join(sorted(packages))}) nor a platform package {PLATFORM_PACKAGES}",
                f"노드 {spec.fqn}의 패키지 {spec.pkg}이(가) 제출물에도, 플랫폼 패키지에도 없습니다",
            )
    prefix.mkdir(parents=True, exist_ok=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    for pkg, folder in packages.items():
        # Built from a fresh copy: the build writes build/ and *.egg-info next to setup.py, and the
        # submission stays untouched (and no stale build/ from an earlier run leaks into this one).
        source = prefix.parent / "sources" / pkg
        shutil.rmtree(source, ignore_errors=True)
        shutil.copytree(
            folder,
            source,
            symlinks=True,  # check_files allows none; never follow one out of the submission
            ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"),
        )
        _install(
            pkg,
            source,
            prefix,
            log_dir / f"install_{pkg}.log",
            f"{folder.relative_to(root)}/setup.py",
            sandbox,
        )
    scripts: dict[tuple[str, str], Executable] = {}
    platform = [
        metadata.distribution(spec.pkg)
        for spec in nodes
        if spec.pkg in PLATFORM_PACKAGES and spec.pkg not in packages
    ]
    for dist in [*platform, *metadata.distributions(path=[str(prefix)])]:  # the student's win
        for ep in dist.entry_points:
            if ep.group == "console_scripts":
                module, _, func = ep.value.partition(":")
                scripts[(dist.metadata["Name"].replace("-", "_"), ep.name)] = Executable(
                    module.strip(), func.strip()
                )
    for spec in nodes:
        if (spec.pkg, spec.executable) not in scripts:
            known = sorted(e for p, e in scripts if p == spec.pkg)
            raise SubmissionError(
                spec.location,
                f"package {spec.pkg} has no executable '{spec.executable}' "
                f"(console_scripts in setup.py: {known})",
                f"패키지 {spec.pkg}에 실행 파일 '{spec.executable}'이(가) 없습니다 "
                f"(setup.py의 console_scripts: {known})",
            )
    return InstalledSubmission(root, prefix, launch_file, nodes, scripts)
