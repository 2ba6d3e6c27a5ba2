"""The nightly engine: inbox -> archive -> read -> validate -> assemble -> build -> check -> publish."""
