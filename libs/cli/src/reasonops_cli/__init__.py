"""The reasonops command."""
