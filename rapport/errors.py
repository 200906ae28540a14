"""Errors the pipeline reports to people, with the exit code each one means."""

from __future__ import annotations


class RapportError(Exception):
    """An error whose message is meant for the user: what happened, where, what to do."""

    exit_code = 1


class StructuralError(RapportError):
    """The input cannot be read as the contract says (file, column, delimiter, encoding).

    The build stops before anything is written where readers can see it.
    """

    exit_code = 2


class BuildRefused(RapportError):
    """Another build is running, or the build cannot start."""

    exit_code = 1
