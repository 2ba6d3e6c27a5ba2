"""The shared core: home and settings, definitions, periods, release opening, CSV export,
durable writes, the audit log, the palette."""
