"""Data: offline dataset sources (tfds builders), preprocessing, input pipelines and 2-D toy mixtures."""
