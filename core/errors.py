"""Job errors that say whether a retry can help (after kopf's Permanent/Temporary)."""


class PermanentError(Exception):
    """Retrying cannot help (bad input, missing object): fail now and report."""


class TemporaryError(Exception):
    """Retrying should help (API down, lock busy): let the retry policy run."""
