"""The service-level agent: forecasts which running SLA clocks will breach."""
