"""Helpers for tests that run GeoSeg in a child process."""


def read_lines(stream, lines: list[str]) -> None:
    """Collect ``stream``'s lines into ``lines`` until it ends (run in a thread, so that the pipe never fills),
    then close it."""
    with stream:
        lines.extend(stream)
