"""ReasonOps ServiceNow sync: incidents kept in step with a ServiceNow instance."""
