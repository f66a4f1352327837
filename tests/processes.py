"""Helpers for tests that run GeoSeg in a child process."""
import signal


def read_lines(stream, lines: list[str]) -> None:
    """Collect ``stream``'s lines into ``lines`` until it ends (run in a thread, so that the pipe never fills),
    then close it."""
    with stream:
        lines.extend(stream)


def as_in_a_terminal() -> None:
    """Run in a child before it starts (``preexec_fn``): SIGINT takes its default action and is not blocked, as in a
    terminal's shell, whatever this test process inherited (a shell ignores SIGINT in the commands it starts with
    ``&``, and a shell started ignoring it cannot undo that)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
