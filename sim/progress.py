"""Progress display of long work (pipeline stages, transport, sweeps): a rich progress bar
on a terminal, nothing when disabled. Work code calls ``with Progress.of(progress, name,
total) as task: task.advance(n)`` and never deals with the terminal itself."""
from __future__ import annotations

from contextlib import contextmanager

from rich.progress import (BarColumn, Progress as RichProgress, SpinnerColumn,
                           TaskProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn)

__all__ = ["Progress"]


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
    enabled : bool
        Show anything at all (the CLI passes ``not --quiet and stderr is a terminal``).
    """

    def __init__(self, enabled: bool = True):
        self.enabled = bool(enabled)
        self._bar = None
        self._depth = 0

    def __enter__(self):
        if self.enabled and self._depth == 0:
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
        if self._bar is None:
            yield _NullTask()
            return
        task_id = self._bar.add_task(description, total=total)
        try:
            yield _Task(self._bar, task_id)
        finally:
            self._bar.remove_task(task_id)

    @staticmethod
    @contextmanager
    def of(progress, description: str, total: int | None = None):
        """A task on ``progress``: a :class:`Progress` (shared display), ``True`` (a display of
        its own) or a false value (nothing)."""
        if isinstance(progress, Progress):
            with progress, progress.task(description, total) as task:
                yield task
        elif progress:
            with Progress(True) as own, own.task(description, total) as task:
                yield task
        else:
            yield _NullTask()
