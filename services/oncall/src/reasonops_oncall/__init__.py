"""ReasonOps on-call service: who carries the pager, now and at any time."""
