"""Silences and maintenance windows: alerts they match page no one."""
