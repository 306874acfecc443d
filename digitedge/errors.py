"""The one exception type the CLI turns into a one-line message instead of a traceback."""


class DigitEdgeError(Exception):
    """A failure the user can act on (bad file, missing extra, refused model).

    The message must fit on one line and say what to do; `digitedge` prints it as
    `digitedge: error: <message>` and exits non-zero.
    """


def needs_tensorflow(what: str) -> "DigitEdgeError":
    """The error raised when a workstation-only command runs on a base install."""
    return DigitEdgeError(
        f"{what} needs TensorFlow, which the base install leaves out: "
        "pip install 'digitedge[train]'"
    )
