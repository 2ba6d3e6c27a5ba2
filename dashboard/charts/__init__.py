"""Chart builders: one module per page; a Polars frame in, a Plotly figure out, nothing drawn here."""
