"""What stays hidden from students: the teacher's grading secret, from which hidden variants'
seeds come, and the teacher's hidden scenarios (ROS-free).

Students have this repository, the public scenarios and `Scenario.variant()`, so a seed written in
an assignment file would let them compute every hidden world at home. The seeds of hidden
variants are therefore derived from a secret only the teacher keeps (a file outside the repository,
or an environment variable) with HMAC-SHA256 over the assignment, the scenario, the variant and,
for per-team variants, the team's id. The same secret gives the same seeds, so a regrade
reproduces a grade; result.json records each episode's seed and the secret's fingerprint (never
the secret). Without a secret only the visible variants are graded, and the grader says so.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from curriculum_pkg.errors import LocatedError, ScenarioError

SECRET_ENV = "ROOTROUTE_GRADING_SECRET"  # the secret itself
SECRET_FILE_ENV = "ROOTROUTE_GRADING_SECRET_FILE"  # or a file holding it
MIN_SECRET_CHARS = 16
MAX_SECRET_BYTES = 4096


class SecretError(LocatedError):
    """The grading secret cannot be used (missing file, too short, readable by others)."""


@dataclass(frozen=True)
class HiddenOptions:
    """How a batch grades hidden work, handed on to each `rootroute grade` it starts."""

    secret_file: Path | None = None  # else $ROOTROUTE_GRADING_SECRET(_FILE), which workers inherit
    per_team: bool = False  # each team's hidden variants from the secret and its folder name
    scenarios_dir: Path | None = None  # the teacher's hidden scenarios

    def grade_args(self) -> list[str]:
        args = ["--secret", str(Path(self.secret_file).resolve())] if self.secret_file else []
        args += ["--per-team"] if self.per_team else []
        if self.scenarios_dir:
            args += ["--hidden-scenarios", str(Path(self.scenarios_dir).resolve())]
        return args

    def fingerprint(self) -> str:
        """Changes when the secret, the per-team choice or a hidden scenario file changes, so a
        batch regrades; reveals none of them."""
        secret = find_secret(self.secret_file)
        digest = hashlib.sha256(b"rootroute-hidden-options\0")
        digest.update(b"secret:" + (secret.fingerprint.encode() if secret else b"none"))
        digest.update(b"per-team" if self.per_team else b"shared")
        if self.scenarios_dir:
            for path in sorted(Path(self.scenarios_dir).glob("*.yaml")):
                digest.update(path.name.encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()


@dataclass(frozen=True)
class GradingSecret:
    key: bytes
    source: str  # where it came from, for messages: a path or the variable's name, never the key

    @property
    def fingerprint(self) -> str:
        """Tells two secrets apart in result.json without revealing either."""
        return hashlib.sha256(b"rootroute-fingerprint\0" + self.key).hexdigest()[:16]

    def seed(self, assignment_id: str, scenario_id: str, variant: int, team: str = "") -> int:
        """The seed of one hidden variant: 63 bits of HMAC-SHA256(secret, what it is for)."""
        message = "\0".join(
            ("rootroute-variant-v1", assignment_id, scenario_id, str(variant), team)
        )
        digest = hmac.new(self.key, message.encode(), hashlib.sha256).digest()
        return int.from_bytes(digest[:8], "big") >> 1

    def __repr__(self) -> str:  # never print the key
        return f"GradingSecret(source={self.source!r}, fingerprint={self.fingerprint})"


def redraw_seed(seed: int, attempt: int) -> int:
    """Another seed for the same hidden variant, when the one drawn from `seed` cannot be graded
    fairly (see grader.plan_episodes): a pure function, so a regrade redraws alike."""
    digest = hashlib.sha256(f"rootroute-redraw-v1\0{seed}\0{attempt}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def _from_text(text: str, source: str) -> GradingSecret:
    key = text.strip()
    if len(key) < MIN_SECRET_CHARS:
        raise SecretError(
            source,
            f"the grading secret is too short (at least {MIN_SECRET_CHARS} characters; "
            "make one with `rootroute secret new FILE`)",
            f"채점 비밀키가 너무 짧습니다 ({MIN_SECRET_CHARS}자 이상이어야 합니다. "
            "`rootroute secret new 파일`로 만드세요)",
        )
    return GradingSecret(key.encode(), source)


def read_secret_file(path: Path) -> GradingSecret:
    path = Path(path)
    try:
        with path.open("rb") as f:
            data = f.read(MAX_SECRET_BYTES + 1)
        mode = path.stat().st_mode
    except OSError as exc:
        raise SecretError(
            str(path),
            f"cannot read the grading secret ({exc.strerror})",
            f"채점 비밀키 파일을 읽을 수 없습니다 ({exc.strerror})",
        ) from None
    if len(data) > MAX_SECRET_BYTES:
        raise SecretError(
            str(path),
            f"the grading secret file is larger than {MAX_SECRET_BYTES} bytes",
            f"채점 비밀키 파일이 {MAX_SECRET_BYTES}바이트보다 큽니다",
        )
    if mode & 0o077:
        raise SecretError(
            str(path),
            "the grading secret file may be read by other users: chmod 600 it",
            "다른 사용자가 채점 비밀키 파일을 읽을 수 있습니다. chmod 600으로 권한을 바꾸세요",
        )
    return _from_text(data.decode(errors="replace"), str(path))


def find_secret(path: Path | None = None, environ=os.environ) -> GradingSecret | None:
    """The secret from `path`, else from $ROOTROUTE_GRADING_SECRET(_FILE); None if there is none."""
    if path is not None:
        return read_secret_file(path)
    if environ.get(SECRET_ENV):
        return _from_text(environ[SECRET_ENV], f"${SECRET_ENV}")
    if environ.get(SECRET_FILE_ENV):
        return read_secret_file(Path(environ[SECRET_FILE_ENV]))
    return None


def new_secret_file(path: Path) -> GradingSecret:
    """Write a fresh random secret to `path` (mode 600); never overwrites an existing file."""
    path = Path(path)
    key = secrets.token_hex(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise SecretError(
            str(path),
            "a file already exists there: a new secret would change every hidden variant",
            "이미 파일이 있습니다. 새 비밀키를 만들면 숨은 변형이 모두 바뀌므로 덮어쓰지 않습니다",
        ) from None
    except OSError as exc:
        raise SecretError(
            str(path),
            f"cannot write the secret ({exc.strerror})",
            f"비밀키를 쓸 수 없습니다 ({exc.strerror})",
        ) from None
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    return GradingSecret(key.encode(), str(path))


def load_hidden_scenarios(folder: Path, assignment) -> tuple:
    """The teacher's hidden scenarios for an assignment: every *.yaml in `folder` (kept outside the
    repository students clone), validated like the library's, and fit for the assignment: their
    tasks are of kinds its visible scenarios already ask for (a navigation assignment is not
    graded on an inspection scenario). Raises a located, bilingual ScenarioError."""
    from curriculum_pkg.scenario import load_scenario

    folder = Path(folder)
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    if not files:
        raise ScenarioError(
            str(folder),
            "no hidden scenarios (*.yaml) in this folder",
            "이 폴더에 숨은 시나리오(*.yaml)가 없습니다",
        )
    kinds = {t.kind for run in assignment.runs for t in run.scenario.tasks}
    scenarios = []
    for path in files:
        scenario = load_scenario(path)
        extra = sorted({t.kind for t in scenario.tasks} - kinds)
        if extra:
            raise ScenarioError(
                path.name,
                f"tasks of kind {', '.join(extra)} are not part of assignment {assignment.id} "
                f"(it asks for {', '.join(sorted(kinds))})",
                f"{', '.join(extra)} 작업은 과제 {assignment.id}에 없는 종류입니다 "
                f"(이 과제의 작업: {', '.join(sorted(kinds))})",
            )
        scenarios.append(scenario)
    return tuple(scenarios)
