"""The one exception type whose message is shown to the user as is."""


class KabarError(Exception):
    """A problem the user can act on; front ends print its message on one line, no traceback."""


class ServiceUnavailable(KabarError):
    """A server Kabar depends on (the Chroma server, the LLM server) is down, unreachable or failing.

    Front ends may show users a gentler "try again later" and keep the details for the log.
    """
