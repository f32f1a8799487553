"""Progress of long work (pipeline stages, transport, sweeps), shown the way the output is
read: a rich progress display with percent done and time left on a terminal, one log line per
stage on stderr otherwise (logs, batch jobs), nothing with ``--quiet``. Work code calls
``with Progress.of(progress, name, total) as task: task.advance(n)`` and never deals with the
terminal itself."""
from __future__ import annotations

from contextlib import contextmanager
import sys
import time

from rich.progress import (BarColumn, Progress as RichProgress, SpinnerColumn,
                           TaskProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn)

__all__ = ["Progress", "MODES"]

#: ``"bar"``: rich display on stderr; ``"log"``: one line per top-level task on stderr;
#: ``"off"``: nothing.
MODES = ("bar", "log", "off")


class _NullTask:
    def advance(self, n: int = 1) -> None:
        """Nothing to show."""


class _Task:
    def __init__(self, bar, task_id):
        self._bar, self._id = bar, task_id

    def advance(self, n: int = 1) -> None:
        """Record ``n`` more units of work done."""
        self._bar.update(self._id, advance=n)


class Progress:
    """A progress display shared by the stages of one run.

    Parameters
    ----------
    mode : {"bar", "log", "off"} or bool
        ``True`` picks ``"bar"`` on a terminal and ``"log"`` otherwise; ``False`` is ``"off"``.
    stream : file, optional
        Where log lines go (default stderr).
    """

    def __init__(self, mode="bar", stream=None):
        if mode is True:
            mode = "bar" if sys.stderr.isatty() else "log"
        elif mode is False or mode is None:
            mode = "off"
        if mode not in MODES:
            raise ValueError(f"progress mode {mode!r} is not one of {', '.join(MODES)}")
        self.mode = mode
        self.enabled = mode != "off"
        self.stream = stream
        self._bar = None
        self._depth = 0
        self._open = 0  # log mode: tasks running (only top-level ones are logged)

    def __enter__(self):
        if self.mode == "bar" and self._depth == 0:
            self._bar = RichProgress(SpinnerColumn(), TextColumn("{task.description}"),
                                     BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
                                     TimeRemainingColumn(), transient=True)
            self._bar.start()
        self._depth += 1
        return self

    def __exit__(self, *exc):
        self._depth -= 1
        if self._depth == 0 and self._bar is not None:
            self._bar.stop()
            self._bar = None
        return False

    @contextmanager
    def task(self, description: str, total: int | None = None):
        """A task (a stage or a loop) shown while the block runs; ``total`` units or none."""
        if self.mode == "log":
            yield from self._log_task(description)
            return
        if self._bar is None:
            yield _NullTask()
            return
        task_id = self._bar.add_task(description, total=total)
        try:
            yield _Task(self._bar, task_id)
        finally:
            self._bar.remove_task(task_id)

    def _log_task(self, description):
        top = self._open == 0
        self._open += 1
        t0 = time.perf_counter()
        try:
            yield _NullTask()
        finally:
            self._open -= 1
            if top:
                print(f"taresim: {description}: {time.perf_counter() - t0:.1f} s",
                      file=self.stream or sys.stderr, flush=True)

    @staticmethod
    @contextmanager
    def of(progress, description: str, total: int | None = None):
        """A task on ``progress``: a :class:`Progress` (shared display), a mode or ``True``
        (a display of its own) or a false value (nothing)."""
        if isinstance(progress, Progress):
            with progress, progress.task(description, total) as task:
                yield task
        elif progress:
            with Progress(progress) as own, own.task(description, total) as task:
                yield task
        else:
            yield _NullTask()
