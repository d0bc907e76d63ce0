"""A console channel has no address: every message goes to the feed `make run` prints."""

from bots.sinks.base import Address as _Base


class Address(_Base):
    pass
