"""ReasonOps slm service."""
