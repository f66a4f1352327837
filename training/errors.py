"""The one error type GeoSeg raises for what a user can fix; callers catch it (and Cancelled) in one place."""


class GeoSegError(ValueError):
    """A failure the user can fix: the message names the file or setting and what to do."""
