"""Progress reporting and cancellation across the plugin/training seam.

Callers pass two plain callables: ``report(percent, message)`` and ``is_cancelled()``. Inside QGIS they
wrap ``QgsProcessingFeedback``; on the command line they draw a progress bar; in a worker process they
write JSON lines. Nothing here knows which.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

ReportFn = Callable[[float, str], None]
CancelFn = Callable[[], bool]


class Cancelled(Exception):
    """Raised when the caller asked to stop; partial outputs have been removed."""

    MESSAGE = "Cancelled by the user."

    def __init__(self, message: str = MESSAGE):
        super().__init__(message)


def _ignore(percent: float, message: str) -> None:
    pass


def _never() -> bool:
    return False


@dataclass
class Progress:
    """Reports percentages in ``[start, end]`` of the caller's bar and answers cancellation."""

    report: ReportFn = _ignore
    is_cancelled: CancelFn = _never
    start: float = 0.0
    end: float = 100.0
    _last: float = field(default=-1.0, repr=False)

    def update(self, fraction: float, message: str = "") -> None:
        percent = self.start + (self.end - self.start) * min(max(fraction, 0.0), 1.0)
        if message or percent - self._last >= 0.5:
            self._last = percent
            self.report(percent, message)

    def warn(self, message: str) -> None:
        """Report ``message`` as a warning ("WARNING: " before it), at the progress reached so far."""
        self.report(max(self._last, self.start), f"WARNING: {message}")

    def check(self) -> None:
        """Raise :class:`Cancelled` if the caller asked to stop."""
        if self.is_cancelled():
            raise Cancelled()

    def span(self, start_fraction: float, end_fraction: float) -> "Progress":
        """A child reporter mapped onto part of this one's range."""
        width = self.end - self.start
        return Progress(self.report, self.is_cancelled,
                        self.start + width * start_fraction, self.start + width * end_fraction)
