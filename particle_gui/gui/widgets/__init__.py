"""The widgets of the main window: image canvas, file list, parameters, tables, plots, bars and dialogs."""
