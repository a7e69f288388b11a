"""ReasonOps' client library: what every face (CLI, REST gateway, MCP server, console)
asks of the services and the views it builds from their answers, written once.

- ``trail``: an incident's causal chain, read from the AUDIT stream;
- ``summaries``: one line per event type, for people;
- ``agents``: agent decisions from the AGENTS stream, agent status from every replica;
- ``reports``: the integrated dashboard and the service-level and monthly summaries.
"""
