"""Services: what the UI and the CLI call. Each area has its own module."""
