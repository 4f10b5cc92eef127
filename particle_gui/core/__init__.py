"""The pure analysis engine: no Qt, no GUI. Arrays in, arrays and tables out."""
