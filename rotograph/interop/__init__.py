"""Integrations: the command line, Nuke export, shape file formats and AI model weights."""
