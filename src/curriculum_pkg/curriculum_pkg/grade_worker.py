"""python -m curriculum_pkg.grade_worker RESULT_FD [--no-sandbox]: one grading run, sandboxed.

Started by curriculum_pkg.grader.grade, which sends the job (a pickle of its own making) on stdin.
The first thing the worker does, while the process is still single-threaded (before numpy,
MuJoCo or rclpy start threads), is to move into its private network and /dev/shm; then it
grades and writes the result as JSON (curriculum_pkg.handoff) to RESULT_FD, a pipe that only
the parent reads and that no student process inherits. Progress lines for the person watching
are printed with grader.PROGRESS_PREFIX.
"""

import os
import sys

from curriculum_pkg.sandbox import SandboxInfo, enter_private_network


def main() -> int:
    result_fd = int(sys.argv[1])
    os.set_inheritable(result_fd, False)  # never handed on to a student process
    info = SandboxInfo(requested="--no-sandbox" not in sys.argv[2:])
    if info.requested:
        enter_private_network(info)  # stdlib only so far: still one thread

    import pickle

    from curriculum_pkg import handoff
    from curriculum_pkg.grader import PROGRESS_PREFIX, run_grading

    job = pickle.loads(sys.stdin.buffer.read())
    report = run_grading(job, info, lambda line: print(PROGRESS_PREFIX + line, flush=True))
    with os.fdopen(result_fd, "w", encoding="utf-8") as out:
        out.write(handoff.encode(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
