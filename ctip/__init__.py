"""CTIP Bridge: software for the Cambodia-China Joint Plan of Action on counter trafficking."""

__version__ = "0.1.0"
