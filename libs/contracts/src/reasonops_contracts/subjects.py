"""Every NATS subject ReasonOps uses, declared once.

Events:   ``itsm.<domain>.<entity>.<verb>``   (stored in the domain's stream)
Commands: ``itsm.<domain>.cmd.<verb>``        (core request-reply, never stored)
Queries:  ``itsm.<domain>.query.<name>``      (core request-reply, never stored)
"""

from __future__ import annotations

import re

ROOT = "itsm"
"""The first token of every subject and event type."""

# Ingest: raw payloads published directly by senders inside the cluster, and the
# normalised result.
INGEST_RAW_ALERTMANAGER = "itsm.ingest.raw.alertmanager"
INGEST_RAW_EVENT = "itsm.ingest.raw.event"
INGEST_EVENT_ACCEPTED = "itsm.ingest.event.accepted"
# Change events (deploys, configuration changes), kept for root-cause analysis.
INGEST_CHANGE_ACCEPTED = "itsm.ingest.change.accepted"
# Raw payloads of the other formats, one subject per format.
INGEST_RAW_PAGERDUTY = "itsm.ingest.raw.pagerduty"
INGEST_RAW_GRAFANA = "itsm.ingest.raw.grafana"
INGEST_RAW_CLOUDEVENTS = "itsm.ingest.raw.cloudevents"
INGEST_RAW_CHANGE = "itsm.ingest.raw.change"
INGEST_RAW_SUBJECTS = (INGEST_RAW_ALERTMANAGER, INGEST_RAW_EVENT, INGEST_RAW_PAGERDUTY,
                       INGEST_RAW_GRAFANA, INGEST_RAW_CLOUDEVENTS, INGEST_RAW_CHANGE)
"""Every raw format's subject: what monitoring senders publish on, ingest consumes."""
# Integrations (senders and their keys) and heartbeats.
INGEST_CMD_CREATE_INTEGRATION = "itsm.ingest.cmd.create_integration"
INGEST_CMD_REVOKE_INTEGRATION = "itsm.ingest.cmd.revoke_integration"
INGEST_CMD_ROTATE_INTEGRATION_KEY = "itsm.ingest.cmd.rotate_integration_key"
INGEST_QUERY_INTEGRATIONS = "itsm.ingest.query.integrations"
INGEST_QUERY_HEARTBEATS = "itsm.ingest.query.heartbeats"

# The gateway (REST API, MCP): API tokens for people and programs.
GATEWAY_TOKEN_CREATED = "itsm.gateway.token.created"
GATEWAY_TOKEN_REVOKED = "itsm.gateway.token.revoked"
GATEWAY_CMD_CREATE_TOKEN = "itsm.gateway.cmd.create_token"
GATEWAY_CMD_REVOKE_TOKEN = "itsm.gateway.cmd.revoke_token"
GATEWAY_QUERY_TOKENS = "itsm.gateway.query.tokens"
GATEWAY_AGENT_CONFIGURED = "itsm.gateway.agent.configured"

# Incidents
INCIDENT_OPENED = "itsm.incident.opened"
INCIDENT_ACKNOWLEDGED = "itsm.incident.acknowledged"
INCIDENT_RESOLVED = "itsm.incident.resolved"
INCIDENT_CLOSED = "itsm.incident.closed"
INCIDENT_REOPENED = "itsm.incident.reopened"
INCIDENT_HELD = "itsm.incident.held"
INCIDENT_RESUMED = "itsm.incident.resumed"
INCIDENT_ASSIGNED = "itsm.incident.assigned"
INCIDENT_PRIORITY_CHANGED = "itsm.incident.priority_changed"
INCIDENT_CMD_CREATE = "itsm.incident.cmd.create"
INCIDENT_CMD_CHANGE_PRIORITY = "itsm.incident.cmd.change_priority"
INCIDENT_CMD_ACKNOWLEDGE = "itsm.incident.cmd.acknowledge"
INCIDENT_CMD_RESOLVE = "itsm.incident.cmd.resolve"
INCIDENT_CMD_CLOSE = "itsm.incident.cmd.close"
INCIDENT_CMD_REOPEN = "itsm.incident.cmd.reopen"
INCIDENT_CMD_HOLD = "itsm.incident.cmd.hold"
INCIDENT_CMD_RESUME = "itsm.incident.cmd.resume"
INCIDENT_QUERY_LIST = "itsm.incident.query.list"
INCIDENT_QUERY_GET = "itsm.incident.query.get"
# Incidents in depth: escalation, major incidents, problems, silences, correlation rules
INCIDENT_ESCALATED = "itsm.incident.escalated"
INCIDENT_MAJOR_DECLARED = "itsm.incident.major_declared"
INCIDENT_CMD_ASSIGN = "itsm.incident.cmd.assign"
INCIDENT_CMD_COMMENT = "itsm.incident.cmd.comment"
INCIDENT_CMD_DECLARE_MAJOR = "itsm.incident.cmd.declare_major"
INCIDENT_COMMENTED = "itsm.incident.commented"
INCIDENT_QUERY_COUNTS = "itsm.incident.query.counts"
INCIDENT_QUERY_RULES = "itsm.incident.query.rules"
PROBLEM_OPENED = "itsm.incident.problem.opened"
PROBLEM_UPDATED = "itsm.incident.problem.updated"
PROBLEM_CMD_UPDATE = "itsm.incident.cmd.problem_update"
PROBLEM_QUERY_LIST = "itsm.incident.query.problems"
PROBLEM_QUERY_GET = "itsm.incident.query.problem"
SILENCE_CMD_CREATE = "itsm.incident.cmd.silence_create"
SILENCE_CMD_EXPIRE = "itsm.incident.cmd.silence_expire"
SILENCE_QUERY_LIST = "itsm.incident.query.silences"
SILENCE_QUERY_GET = "itsm.incident.query.silence"
SILENCE_QUERY_COVERING = "itsm.incident.query.covering_silence"

# Service level management
SLA_STARTED = "itsm.slm.sla.started"
SLA_MET = "itsm.slm.sla.met"
SLA_BREACHED = "itsm.slm.sla.breached"
PENALTY_ASSESSED = "itsm.slm.penalty.assessed"
SLM_QUERY_STATUS = "itsm.slm.query.status"
SLA_AT_RISK = "itsm.slm.sla.at_risk"
SLA_PAUSED = "itsm.slm.sla.paused"
SLA_RESUMED = "itsm.slm.sla.resumed"
SLM_MONTH_ASSESSED = "itsm.slm.month.assessed"
SLM_QUERY_REPORT = "itsm.slm.query.report"
SLM_QUERY_CONTRACTS = "itsm.slm.query.contracts"
SLM_QUERY_CLOCKS = "itsm.slm.query.clocks"
SLM_QUERY_POLICIES = "itsm.slm.query.policies"

# Finance
FINANCE_ENTRY_POSTED = "itsm.finance.entry.posted"
FINANCE_QUERY_SUMMARY = "itsm.finance.query.summary"
FINANCE_QUERY_ENTRIES = "itsm.finance.query.entries"
FINANCE_PERIOD_CLOSED = "itsm.finance.period.closed"
FINANCE_CMD_CLOSE_PERIOD = "itsm.finance.cmd.close_period"
FINANCE_QUERY_TRACE = "itsm.finance.query.trace"
FINANCE_QUERY_BUDGETS = "itsm.finance.query.budgets"
FINANCE_QUERY_PERIODS = "itsm.finance.query.periods"
FINANCE_QUERY_INCIDENT_COST = "itsm.finance.query.incident_cost"

# Agents
AGENT_TRIAGE_REQUESTED = "itsm.agent.triage.requested"
AGENT_DECISION = "itsm.agent.decision.recorded"
AGENT_RCA_REQUESTED = "itsm.agent.rca.requested"
AGENT_SECURITY_REQUESTED = "itsm.agent.security.requested"
AGENT_CAPACITY_REQUESTED = "itsm.agent.capacity.requested"
AGENT_PROPOSAL = "itsm.agent.proposal.recorded"
# Scatter-gather: every agent instance answers with its status.
AGENT_QUERY_STATUS = "itsm.agent.query.status"
AGENT_QUERY_RUN_TRIAGE = "itsm.agent.query.run_triage"

# On call
ONCALL_QUERY_WHO = "itsm.oncall.query.who"
ONCALL_QUERY_SHIFTS = "itsm.oncall.query.shifts"
ONCALL_QUERY_SCHEDULES = "itsm.oncall.query.schedules"
ONCALL_CMD_OVERRIDE = "itsm.oncall.cmd.override"
ONCALL_CMD_REMOVE_OVERRIDE = "itsm.oncall.cmd.remove_override"
ONCALL_OVERRIDE_CREATED = "itsm.oncall.override.created"
ONCALL_OVERRIDE_REMOVED = "itsm.oncall.override.removed"
ONCALL_PAGED = "itsm.oncall.incident.paged"
ONCALL_NOTIFICATION = "itsm.oncall.notification.sent"
ONCALL_PAGING_STOPPED = "itsm.oncall.paging.stopped"
ONCALL_CMD_ACT = "itsm.oncall.cmd.act"
ONCALL_PAGE_ACTED_ON = "itsm.oncall.page.acted_on"
ONCALL_PAGE_DEFERRED = "itsm.oncall.page.deferred"

# ServiceNow: incidents kept in step with a ServiceNow instance's incident table
SERVICENOW_RECORD_CREATED = "itsm.servicenow.record.created"
SERVICENOW_RECORD_UPDATED = "itsm.servicenow.record.updated"
SERVICENOW_UPDATE_APPLIED = "itsm.servicenow.update.applied"
SERVICENOW_SYNC_FAILED = "itsm.servicenow.sync.failed"
SERVICENOW_CMD_RESYNC = "itsm.servicenow.cmd.resync"
SERVICENOW_CMD_INBOUND = "itsm.servicenow.cmd.inbound"
SERVICENOW_QUERY_STATUS = "itsm.servicenow.query.status"

# Change management: change requests, their approval, calendar and outcome
CHANGE_REQUESTED = "itsm.change.requested"
CHANGE_APPROVED = "itsm.change.approved"
CHANGE_REJECTED = "itsm.change.rejected"
CHANGE_STARTED = "itsm.change.started"
CHANGE_COMPLETED = "itsm.change.completed"
CHANGE_CANCELLED = "itsm.change.cancelled"
CHANGE_REVIEWED = "itsm.change.reviewed"
CHANGE_INCIDENT_LINKED = "itsm.change.incident_linked"
CHANGE_CMD_REQUEST = "itsm.change.cmd.request"
CHANGE_CMD_APPROVE = "itsm.change.cmd.approve"
CHANGE_CMD_REJECT = "itsm.change.cmd.reject"
CHANGE_CMD_START = "itsm.change.cmd.start"
CHANGE_CMD_COMPLETE = "itsm.change.cmd.complete"
CHANGE_CMD_CANCEL = "itsm.change.cmd.cancel"
CHANGE_CMD_REVIEW = "itsm.change.cmd.review"
CHANGE_QUERY_LIST = "itsm.change.query.list"
CHANGE_QUERY_GET = "itsm.change.query.get"
CHANGE_QUERY_CALENDAR = "itsm.change.query.calendar"
CHANGE_QUERY_METRICS = "itsm.change.query.metrics"

# Workflows
WORKFLOW_STARTED = "itsm.workflow.instance.started"
WORKFLOW_STEP_COMPLETED = "itsm.workflow.step.completed"
WORKFLOW_COMPLETED = "itsm.workflow.instance.completed"
WORKFLOW_FAILED = "itsm.workflow.instance.failed"
WORKFLOW_QUERY_GET = "itsm.workflow.query.get"
WORKFLOW_QUEUED = "itsm.workflow.instance.queued"
WORKFLOW_RESUMED = "itsm.workflow.instance.resumed"
WORKFLOW_COMPENSATED = "itsm.workflow.instance.compensated"
WORKFLOW_STEP_STARTED = "itsm.workflow.step.started"
WORKFLOW_STEP_SKIPPED = "itsm.workflow.step.skipped"
WORKFLOW_STEP_FAILED = "itsm.workflow.step.failed"
WORKFLOW_STEP_RETRIED = "itsm.workflow.step.retried"
WORKFLOW_APPROVAL_REQUESTED = "itsm.workflow.approval.requested"
WORKFLOW_APPROVAL_DECIDED = "itsm.workflow.approval.decided"
WORKFLOW_NOTIFICATION_DELIVERED = "itsm.workflow.notification.delivered"
WORKFLOW_PROPOSAL_APPLIED = "itsm.workflow.proposal.applied"
WORKFLOW_PROPOSAL_REFUSED = "itsm.workflow.proposal.refused"
WORKFLOW_REVIEW_RECORDED = "itsm.workflow.review.recorded"
WORKFLOW_CMD_APPROVE = "itsm.workflow.cmd.approve"
WORKFLOW_CMD_REJECT = "itsm.workflow.cmd.reject"
WORKFLOW_QUERY_DEFINITIONS = "itsm.workflow.query.definitions"
WORKFLOW_QUERY_INSTANCES = "itsm.workflow.query.instances"
WORKFLOW_QUERY_REVIEW = "itsm.workflow.query.review"

# Role policy
POLICY_ACCESS_DENIED = "itsm.policy.access.denied"

# Messages a consumer gave up on after max_deliver failures, per service; what an
# operator did with them (replayed, discarded) on the same subject.
DEAD_LETTER_PREFIX = "itsm.deadletter"


def dead_letter(service: str) -> str:
    """Subject on which ``service`` parks messages it could not handle."""
    return f"{DEAD_LETTER_PREFIX}.{service}"


# An operator's command about a dead letter goes to the service that parked it, which
# alone has the consumer to handle it again: ``<pattern without *><service>``.
DEAD_LETTER_CMD_REPLAY = "itsm.deadletters.cmd.replay.*"
DEAD_LETTER_CMD_DISCARD = "itsm.deadletters.cmd.discard.*"
PER_SERVICE_COMMANDS = (DEAD_LETTER_CMD_REPLAY, DEAD_LETTER_CMD_DISCARD)


def of_service(pattern: str, service: str) -> str:
    """The subject of a per-service command (``PER_SERVICE_COMMANDS``) for ``service``."""
    if not pattern.endswith(".*"):
        raise ValueError(f"{pattern!r} is not a per-service subject")
    return pattern[:-1] + service


INCIDENT_PREFIX = "itsm.incident"
"""Events about an incident; a timeline entry with no event of its own is read as one of
these (``incident.<kind>``) where events and timeline entries are shown together."""

_VERSION = re.compile(r"\.v\d+$")


def kind(name: str) -> str:
    """An event type or subject as people read it: ``itsm.incident.opened.v1`` ->
    ``incident.opened``."""
    return _VERSION.sub("", name.removeprefix(f"{ROOT}."))


def domain(name: str) -> str:
    """The domain of an event type or subject: ``itsm.agent.decision.recorded.v1`` ->
    ``agent``."""
    return kind(name).split(".", 1)[0]


def timeline_type(what: str) -> str:
    """The type under which a timeline entry of kind ``what`` is shown beside events."""
    return f"{INCIDENT_PREFIX}.{what}.v1"
