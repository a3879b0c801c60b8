"""The pure domain model: no I/O, no framework imports.

Everything here can be understood, and tested, without a database, a network or a clock that is not
passed in.
"""
