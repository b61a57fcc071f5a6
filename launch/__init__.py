"""Command-line entry points (absl): `python -m launch.<name>` from the repository root."""
