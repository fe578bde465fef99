"""deskmimic: learn a desktop workflow by watching a person do it."""

__version__ = "0.1.0"
