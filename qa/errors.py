"""Domain errors. The library raises these; the CLI turns them into one-line messages."""


class QAError(Exception):
    """Base class: anything the user can fix by changing input or configuration."""


class ReadError(QAError):
    """A file could not be read or is of an unsupported kind."""

    def __init__(self, path: object, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


class ModelError(QAError):
    """The embedding model is missing, corrupt or does not match the index."""


class IndexStateError(QAError):
    """The index is missing, corrupt or was built differently from what is asked."""


class InputError(QAError):
    """A question or option value is not acceptable."""
