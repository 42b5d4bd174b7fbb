"""pgpath: a linter and advisor for the whole connection path to PostgreSQL."""

__version__ = "0.1.0"
