"""Sections a page lays out that are long enough to live in a module of their own (a page file
stays a layout of at most 450 lines): widgets and layout only, numbers from dashboard/queries/,
figures from dashboard/charts/."""
