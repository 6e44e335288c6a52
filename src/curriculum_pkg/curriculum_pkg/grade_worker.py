"""python -m curriculum_pkg.grade_worker JOB RESULT [--no-sandbox]: one grading run, sandboxed.

Started by curriculum_pkg.grader.grade. The first thing it does, while the process is still
single-threaded (before numpy, MuJoCo or rclpy start threads), is to move into its private
network and /dev/shm; then it grades and pickles the GradeResult to RESULT. Progress lines for
the person watching are printed with grader.PROGRESS_PREFIX.
"""

import sys

from curriculum_pkg.sandbox import SandboxInfo, enter_private_network


def main() -> int:
    job_path, result_path = sys.argv[1:3]
    info = SandboxInfo(requested="--no-sandbox" not in sys.argv[3:])
    if info.requested:
        enter_private_network(info)  # stdlib only so far: still one thread

    import pickle
    from pathlib import Path

    from curriculum_pkg.grader import PROGRESS_PREFIX, run_grading

    job = pickle.loads(Path(job_path).read_bytes())
    result = run_grading(job, info, lambda line: print(PROGRESS_PREFIX + line, flush=True))
    Path(result_path).write_bytes(pickle.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
