"""Rows to domain objects and back: one module per kind of record, used by every service that
needs it, so no service borrows another's mapping. Each function works in the caller's
transaction (a Session, or a Connection on the hot path) and raises nothing a person reads."""
