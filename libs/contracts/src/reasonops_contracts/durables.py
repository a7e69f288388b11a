"""Every durable consumer's name, declared once.

The service that owns a durable consumes through it, its broker identity may use only
its own (``ownership.DURABLES``), and tools that wait for a backlog to drain (what-if
simulation, the benchmark) name it from here. Replicas of a service share its durables.
"""

from __future__ import annotations

INGEST_RAW = "ingest-raw"
"""ingest: raw payloads published directly on NATS"""

INCIDENTS_ALERTS = "incidents"
"""incidents: accepted alerts, correlated into incidents"""
INCIDENTS_AGENTS = "incidents-agents"
"""incidents: agent decisions, onto the incident's timeline"""
INCIDENTS_SLM = "incidents-slm"
"""incidents: SLA events, onto the incident's timeline"""

SLM_INCIDENTS = "slm"
"""slm: incident lifecycle events, which start, pause and stop SLA clocks"""

FINANCE_SLM = "finance"
"""finance: penalties to post"""
FINANCE_INCIDENTS = "finance-incidents"
"""finance: incident events, costed"""

ORCHESTRATOR_INCIDENTS = "orchestrator"
ORCHESTRATOR_AGENTS = "orchestrator-agents"
ORCHESTRATOR_SLM = "orchestrator-slm"
ORCHESTRATOR_FINANCE = "orchestrator-finance"
"""orchestrator: every event of a stream a workflow may start on or wait for"""

AGENT_TRIAGE = "agent-triage"
AGENT_RCA_ALERTS = "agent-rca"
AGENT_RCA_INCIDENTS = "agent-rca-incidents"
AGENT_RCA_REQUESTS = "agent-rca-requests"
AGENT_SECURITY_EVENTS = "agent-security"
AGENT_SECURITY_REQUESTS = "agent-security-requests"
AGENT_CAPACITY_ALERTS = "agent-capacity"
AGENT_CAPACITY_INCIDENTS = "agent-capacity-incidents"
AGENT_CAPACITY_REQUESTS = "agent-capacity-requests"
AGENT_SLM_CLOCKS = "agent-slm"
AGENT_SLM_INCIDENTS = "agent-slm-incidents"
ONCALL_INCIDENTS = "oncall-incidents"
INCIDENTS_ONCALL = "incidents-oncall"
SERVICENOW_INCIDENTS = "servicenow-incidents"
"""servicenow: incident events, pushed to the ServiceNow record of each synced incident"""
CHANGES_INCIDENTS = "changes-incidents"
"""changes: incidents opened, linked to changes on their service"""
AGENT_RCA_CHANGES = "agent-rca-changes"
"""agent-rca: changes implemented, weighed as causes like deploys reported by senders"""
ORCHESTRATOR_CHANGES = "orchestrator-changes"
"""orchestrator: change events (advisory board approval, review after an emergency)"""
