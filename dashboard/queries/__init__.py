"""The dashboard's queries: one module per page, plain functions of a cursor (and a Scope) to
Polars frames."""
