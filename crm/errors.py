"""Errors a user can cause. The CLI prints them as one line and exits non-zero; no traceback."""


class UserError(Exception):
    """Bad input, missing files, failed gates: something the user can fix."""

    exit_code = 2
