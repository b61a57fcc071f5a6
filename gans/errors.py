"""Errors that mean the user asked for something wrong (shown as one line, no traceback)."""


class UserError(Exception):
  """A bad input from the user: unknown name, bad config value, wrong shape, missing data."""


class DivergedError(UserError):
  """A loss became NaN or infinite; training stopped (the last good checkpoint is kept)."""
