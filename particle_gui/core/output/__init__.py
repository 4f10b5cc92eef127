"""Results out: overlays, exports, batch runs over folders, samples and PDF reports."""
