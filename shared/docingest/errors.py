"""Errors the stages raise."""


class BadInput(ValueError):
    """The input can never be processed (empty, binary, undecodable, too large, unreachable...).

    The document ends FAILED with this message as its reason; the message is not retried.
    """
