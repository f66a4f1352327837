"""The one error type GeoSeg raises for what a user can fix; callers catch it (and Cancelled) in one place."""

FEW = 5  # offending files or values a message lists


class GeoSegError(ValueError):
    """A failure the user can fix: the message names the file or setting and what to do."""


def file_error(err: OSError, outputs: tuple[str, ...] = ()) -> str:
    """What went wrong with which file (where the error names none, the ``outputs`` being written), and what
    to check."""
    where = f" {err.filename}" if err.filename else f" {' or '.join(outputs)}" if outputs else ""
    return (f"Cannot use{where}: {err.strerror or err}. Check that the path is right, that it is a file or a "
            "folder as asked, that the folder is writable and that the disk has room.")


def listed(items: list) -> str:
    """The first :data:`FEW` of ``items``, and how many more."""
    more = f" and {len(items) - FEW} more" if len(items) > FEW else ""
    return ", ".join(map(str, items[:FEW])) + more
