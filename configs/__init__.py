"""Experiment configs: one `get_config()` per file; `common` holds the shared defaults."""
