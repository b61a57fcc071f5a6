"""Metrics: FID, IS, KID, precision/recall, mode coverage and their feature extractors."""
