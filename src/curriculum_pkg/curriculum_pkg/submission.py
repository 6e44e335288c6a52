"""A student submission: find its packages and launch file, install them into a per-run prefix.

Everything here reads what the student wrote, outside the sandbox: package.xml is read with a
size cap and without DTDs (no entity expansion), pip's output goes to a file and only its end is
read back, and what the install put in the prefix is checked before any node imports from it.
"""

from __future__ import annotations

import importlib.machinery
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from xml.parsers import expat

from curriculum_pkg.errors import SubmissionError
from curriculum_pkg.launchfile import NodeSpec, lock_platform_nodes, parse_launch_file
from curriculum_pkg.sandbox import Limits, Sandbox

INSTALL_TIMEOUT_S = 180
FULL_BELOW_BYTES = 1 << 20  # an install that failed with less space left than this filled it
MAX_FILES = 5000  # a submission is source code: a few packages, some launch and config files
MAX_BYTES = 100 << 20  # small models and images fit; data sets do not
MAX_MANIFEST_BYTES = 1 << 20  # package.xml, and the METADATA/entry points pip writes (~2 KB)
LOG_TAIL_BYTES = 16 << 10  # what is read back of an install log, which may be huge
# The platform's own node packages: a launch file may start their nodes next to the student's
# (e.g. planning_pkg's arm_commander), as `ros2 launch` would on a lab robot that has them built.
PLATFORM_PACKAGES = ("planning_pkg", "perception_pkg", "teleop_pkg")
# Never the student's: a submission's package of one of these names would shadow the platform's.
RESERVED_PACKAGES = (*PLATFORM_PACKAGES, "common_pkg", "sim_pkg", "curriculum_pkg")
PACKAGE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")  # REP 144; it also names folders and logs
# Modules Python runs by itself at start-up, before any of the platform's code.
STARTUP_HOOKS = ("sitecustomize", "usercustomize")
# pip --target's folders for console scripts and data_files, and compiled bytecode (a .pyc in
# __pycache__ is only ever loaded for its .py next to it, which is checked itself)
NOT_MODULES = ("bin", "share", "__pycache__")


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
        name = read_package_name(xml, str(xml.relative_to(root)))
        if not name:
            raise SubmissionError(
                str(xml.relative_to(root)),
                "package.xml has no <name>",
                "package.xml에 <name>이 없습니다",
            )
        if not PACKAGE_NAME.match(name):
            shown = name if len(name) <= 60 else name[:50] + "..."
            raise SubmissionError(
                str(xml.relative_to(root)),
                f"package name {shown!r} is not a ROS package name: lower case letters, digits "
                "and _, starting with a letter (REP 144)",
                f"패키지 이름 {shown!r}은(는) ROS 패키지 이름으로 쓸 수 없습니다. 영문 소문자, 숫자, "
                "_만 쓰고 영문자로 시작하세요 (REP 144)",
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


def read_package_name(xml: Path, where: str) -> str:
    """<name> of a package.xml, read with a size cap and refusing any DOCTYPE: a DTD is where
    entities are declared ("billion laughs", external files), and a package.xml needs none."""
    with xml.open("rb") as stream:
        raw = stream.read(MAX_MANIFEST_BYTES + 1)
    if len(raw) > MAX_MANIFEST_BYTES:
        raise SubmissionError(
            where,
            f"package.xml is larger than {MAX_MANIFEST_BYTES >> 20} MiB",
            f"package.xml이 {MAX_MANIFEST_BYTES >> 20} MiB보다 큽니다",
        )
    parser = expat.ParserCreate()
    depth, in_name, name = 0, False, []

    def refuse_dtd(*_args) -> None:
        raise SubmissionError(
            f"{where}:{parser.CurrentLineNumber}:{parser.CurrentColumnNumber + 1}",
            "package.xml may not have a <!DOCTYPE> or <!ENTITY> declarations",
            "package.xml에는 <!DOCTYPE>이나 <!ENTITY> 선언을 쓸 수 없습니다",
        )

    def start(tag: str, _attrs) -> None:
        nonlocal depth, in_name
        depth += 1
        in_name = depth == 2 and tag == "name" and not name

    def end(_tag: str) -> None:
        nonlocal depth, in_name
        depth -= 1
        if in_name and not name:
            name.append("")  # an empty <name/> is still the first one
        in_name = False

    def text(data: str) -> None:
        if in_name:
            name.append(data)

    parser.StartDoctypeDeclHandler = refuse_dtd
    parser.EntityDeclHandler = refuse_dtd
    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(raw, True)
    except expat.ExpatError as exc:
        problem = expat.ErrorString(exc.code)
        raise SubmissionError(
            f"{where}:{exc.lineno}:{exc.offset + 1}",
            f"package.xml is not valid XML: {problem}",
            f"package.xml이 올바른 XML이 아닙니다: {problem}",
        ) from None
    return "".join(name).strip()


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
    # Straight into the log file, never into the grader's memory: setup.py may print gigabytes.
    # The sandbox's file size limit (RLIMIT_FSIZE) bounds the file.
    try:
        with log.open("wb") as out:
            result = subprocess.run(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=INSTALL_TIMEOUT_S,
                env=env,
                cwd=folder,
            )
    except subprocess.TimeoutExpired:
        raise SubmissionError(
            where,
            f"installing package {pkg} took longer than {INSTALL_TIMEOUT_S} s",
            f"패키지 {pkg} 설치가 {INSTALL_TIMEOUT_S}초 안에 끝나지 않았습니다",
        ) from None
    if result.returncode != 0:
        tail = log_tail(log)
        space = _space_bytes(prefix)
        if space is not None and space[0] < FULL_BELOW_BYTES:
            size = space[1] >> 20
            raise SubmissionError(
                where,
                f"package {pkg} filled the install space ({size} MiB for the source copies, the "
                f"build and the installed files): does setup.py write large files?\n{tail}",
                f"패키지 {pkg}이(가) 설치 공간({size} MiB: 소스 사본, 빌드, 설치된 파일)을 가득 "
                f"채웠습니다. setup.py가 큰 파일을 쓰고 있지 않나요?\n{tail}",
            )
        raise SubmissionError(
            where,
            f"package {pkg} failed to install:\n{tail}",
            f"패키지 {pkg} 설치에 실패했습니다 (setup.py를 확인하세요):\n{tail}",
        )


def _space_bytes(path: Path) -> tuple[int, int] | None:
    """(left, size) of the file system holding `path`, or None if it cannot be read."""
    try:
        st = os.statvfs(path)
    except OSError:
        return None
    return st.f_bavail * st.f_frsize, st.f_blocks * st.f_frsize


def log_tail(log: Path, lines: int = 12, line_chars: int = 200) -> str:
    """The last lines of a log that may be huge: only its last LOG_TAIL_BYTES are read."""
    try:
        with log.open("rb") as stream:
            stream.seek(max(0, log.stat().st_size - LOG_TAIL_BYTES))
            text = stream.read(LOG_TAIL_BYTES).decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(line[:line_chars] for line in text.strip().splitlines()[-lines:])


def _top_level(prefix: Path) -> set[str]:
    names: set[str] = set()
    with os.scandir(prefix) as entries:
        for entry in entries:
            names.add(entry.name)
            if len(names) > MAX_FILES:
                break
    return names


def _module_name(path: Path) -> str | None:
    """The name `import` finds `path` under, when the prefix is on sys.path."""
    if path.is_dir():  # a regular package, or a namespace package
        return path.name if path.name.isidentifier() else None
    for suffix in sorted(importlib.machinery.all_suffixes(), key=len, reverse=True):
        if path.name.endswith(suffix):
            stem = path.name[: -len(suffix)]
            return stem if stem.isidentifier() else None
    return None


def _platform_module(name: str) -> tuple[str, str] | None:
    """(en, ko) of what a student module called `name` would shadow, if anything: a platform
    package, a start-up hook, or anything the platform's Python imports under that name."""
    if name in RESERVED_PACKAGES:
        return f"the platform package {name}", f"플랫폼 패키지 {name}"
    if name in STARTUP_HOOKS:
        return f"Python's start-up hook {name}", f"파이썬 시작 훅 {name}"
    if name in sys.builtin_module_names or name in getattr(sys, "stdlib_module_names", ()):
        return f"the standard library module {name}", f"표준 라이브러리 모듈 {name}"
    # Where the platform imports from, except the current folder (the grader's, not a node's).
    search = [p for p in sys.path if p and Path(p).resolve() != Path.cwd().resolve()]
    if importlib.machinery.PathFinder.find_spec(name, search) is not None:
        return f"the installed library {name}", f"설치된 라이브러리 {name}"
    return None


def _check_distribution(path: Path, pkg: str, where: str) -> None:
    """The metadata pip wrote for a student's package: small enough to read, and not claiming
    a platform package's name (its console scripts would stand in for the platform's)."""
    for meta in ("METADATA", "PKG-INFO", "entry_points.txt"):
        if (path / meta).is_file() and (path / meta).stat().st_size > MAX_MANIFEST_BYTES:
            raise SubmissionError(
                where,
                f"package {pkg}: {path.name}/{meta} is larger than "
                f"{MAX_MANIFEST_BYTES >> 20} MiB (a long_description?)",
                f"패키지 {pkg}: {path.name}/{meta}이(가) {MAX_MANIFEST_BYTES >> 20} MiB보다 "
                "큽니다 (long_description이 너무 길지 않은지 확인하세요)",
            )
    name = metadata.Distribution.at(path).metadata["Name"] or ""
    if re.sub(r"[-_.]+", "_", name).lower() in RESERVED_PACKAGES:
        raise SubmissionError(
            where,
            f"package {pkg}: setup.py names its distribution {name[:60]}, which belongs to the "
            "platform: use the package's own name",
            f"패키지 {pkg}: setup.py의 name이 플랫폼 패키지 이름 {name[:60]}입니다. "
            "패키지 자신의 이름을 쓰세요",
        )


def check_installed_files(prefix: Path, new_names: set[str], pkg: str, where: str) -> None:
    """What package `pkg` just added to the prefix (its top-level `new_names`) may not shadow
    the platform: the prefix comes first on a student node's import path."""
    if len(new_names) > MAX_FILES:
        raise SubmissionError(
            where,
            f"package {pkg} installed more than {MAX_FILES} files",
            f"패키지 {pkg}이(가) 파일을 {MAX_FILES}개 넘게 설치했습니다",
        )
    for entry in sorted(new_names):
        path = prefix / entry
        if entry.endswith(".pth"):
            raise SubmissionError(
                where,
                f"package {pkg} installs {entry}: .pth files run code when Python starts, "
                "and a submission may not have any",
                f"패키지 {pkg}이(가) {entry}를 설치합니다. .pth 파일은 파이썬이 시작할 때 코드를 "
                "실행하므로 제출물에 넣을 수 없습니다",
            )
        if entry.endswith((".dist-info", ".egg-info")) and path.is_dir():
            _check_distribution(path, pkg, where)
            continue
        module = None if entry in NOT_MODULES else _module_name(path)
        shadowed = _platform_module(module) if module else None
        if shadowed is not None:
            en, ko = shadowed
            raise SubmissionError(
                where,
                f"package {pkg} installs a top-level module {module} ({entry}), which would "
                f"shadow {en}: rename it, or leave it out of setup.py's packages "
                "(e.g. find_packages(exclude=['test']))",
                f"패키지 {pkg}이(가) 최상위 모듈 {module}({entry})을(를) 설치해 {ko}을(를) "
                "가립니다. 이름을 바꾸거나 setup.py의 packages에서 빼세요 "
                "(예: find_packages(exclude=['test']))",
            )


def install_submission(
    root: Path,
    launch_name: str,
    prefix: Path,
    log_dir: Path,
    sandbox: Sandbox,
    required: Sequence = (),
) -> InstalledSubmission:
    """Check and install a submission into `prefix` (emptied first: it is the run's own).

    `required` is the assignment's graph (its NodeRequirements): the returned nodes then have
    the platform's nodes locked to the assignment's settings (launchfile.lock_platform_nodes).
    """
    root = Path(root).resolve()
    if not root.is_dir():
        raise SubmissionError(str(root), "submission folder does not exist", "제출 폴더가 없습니다")
    check_files(root)
    launch_file = find_launch_file(root, launch_name)
    nodes = lock_platform_nodes(parse_launch_file(launch_file), required)
    packages = find_packages(root)
    for spec in nodes:
        if spec.pkg not in packages and spec.pkg not in PLATFORM_PACKAGES:
            raise SubmissionError(
                spec.location,
                f"node {spec.fqn} uses package {spec.pkg}, which is neither in the submission "
                f"(found: {', '.join(sorted(packages))}) nor a platform package {PLATFORM_PACKAGES}",
                f"노드 {spec.fqn}의 패키지 {spec.pkg}이(가) 제출물에도, 플랫폼 패키지에도 없습니다",
            )
    shutil.rmtree(prefix, ignore_errors=True)  # nothing left from an earlier run counts
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
        where = f"{folder.relative_to(root)}/setup.py"
        before = _top_level(prefix)
        _install(pkg, source, prefix, log_dir / f"install_{pkg}.log", where, sandbox)
        check_installed_files(prefix, _top_level(prefix) - before, pkg, where)
    scripts: dict[tuple[str, str], Executable] = {}
    platform = [
        metadata.distribution(spec.pkg)
        for spec in nodes
        if spec.pkg in PLATFORM_PACKAGES and spec.pkg not in packages
    ]
    # The platform's last: a platform node always runs the platform's own entry point.
    for dist in [*metadata.distributions(path=[str(prefix)]), *platform]:
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
