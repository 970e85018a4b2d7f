"""Chinese question answering over a document collection, with cited sources."""

__version__ = "0.1.0"
