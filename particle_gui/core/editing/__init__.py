"""Hand corrections: label edits, their undo history, reconciliation with new runs, journal and sessions."""
