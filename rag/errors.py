"""The one exception type whose message is shown to the user as is."""


class KabarError(Exception):
    """A problem the user can act on; front ends print its message on one line, no traceback."""
