"""ReasonOps change management: change requests, approval, calendar, implementation."""
