"""Funder snapshots: quarterly cells, suppression and its exact check, restatement, the report and its PDF."""
