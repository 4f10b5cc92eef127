"""Learning from the user's corrections: agreement with corrected labels, parameter search, network head, profiles."""
