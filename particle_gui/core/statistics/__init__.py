"""Size statistics: summaries, ISO 9276-2 distributions, fits and their tests, image-level statistics, comparisons."""
