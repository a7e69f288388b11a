"""Incidents: alerts correlated into incidents, their lifecycle, timeline and escalation."""
