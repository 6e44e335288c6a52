"""The progress bar of `rootroute batch`: submissions done of all, elapsed time and an ETA.

The batch's own lines (started, scored, failed, ...) go through `BatchBar.line` and print above
the bar. On a terminal the bar is drawn live (rich's Progress); anywhere else (a pipe to `tee`,
CI, a test) there is no bar and the lines stay plain text, without escape codes.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

REFRESH_PER_S = 1.0  # the clocks show seconds; the batch shares the CPUs with its runs


class BatchBar:
    """`with BatchBar() as bar: run_batch(..., progress=bar.line, bar=bar)`."""

    def __init__(
        self, console: Console | None = None, clock: Callable[[], float] | None = None
    ) -> None:
        self.console = console or Console()  # stdout; rich finds out whether it is a terminal
        self._clock = clock  # seconds, for the elapsed time and the ETA (default: monotonic)
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    @property
    def live(self) -> bool:
        """Whether a bar is drawn: only on a terminal that can move its cursor."""
        return self.console.is_terminal and not self.console.is_dumb_terminal

    def line(self, message: str) -> None:
        """One of the batch's lines, printed as it is (no markup, no wrapping) above the bar."""
        self.console.out(message, highlight=False)

    def start(self, total: int, done: int = 0) -> None:
        """`total` submissions, of which `done` need no grading (skipped: unchanged)."""
        if not self.live or self._progress is not None:
            return
        self._progress = Progress(
            TextColumn("채점 / grading"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("경과 / elapsed"),
            TimeElapsedColumn(),
            TextColumn("남은 시간 / ETA"),
            TimeRemainingColumn(),
            console=self.console,
            refresh_per_second=REFRESH_PER_S,
            # A submission takes minutes: rich's default 30 s window would hold one finish at
            # most, and so never an estimate. The ETA is the whole run's rate instead.
            speed_estimate_period=math.inf,
            get_time=self._clock,
        )
        self._task = self._progress.add_task("", total=total, completed=done)
        # A first sample at the start, so that the rate counts from here, not from the first
        # finish; skipped submissions are not part of it (they took no time).
        self._progress.advance(self._task, 0)
        self._progress.start()

    def advance(self) -> None:
        """One more submission done (graded or failed)."""
        if self._progress is not None:
            self._progress.advance(self._task)
            self._progress.refresh()  # now, with the line that says so, not at the next tick

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()  # leaves the last state of the bar on the screen
            self._progress = None

    def __enter__(self) -> BatchBar:
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()
