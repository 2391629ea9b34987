"""mesomix: compose, check and dispense mesotherapy mixtures, and keep stock exact.

Every way in (the app, the command line, a test, a worker process) imports this package first,
so it is where the domain's one unit registry is told how to read its definitions: the domain
reads no files, so the shipped file is read at the edge (mesomix.reference), on the registry's
first use. Nothing is read or loaded here: pint and the data come after the first frame.
"""

from mesomix.domain import unit_definitions


def _shipped_unit_definitions() -> str:
    from mesomix.reference import unit_definitions as read

    return read()


unit_definitions.read_with(_shipped_unit_definitions)
