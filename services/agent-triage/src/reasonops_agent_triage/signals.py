"""Where the rules look and how much each place counts; what they look for is in
``vocabularies/`` (see :mod:`.vocabulary`).

A term's score is its own weight times the weight of the place it was found, so a
vendor's name for the thing watched in a label or the alert name
(``namespace: AWS/RDS``, ``PostgresReplicationLag``) outweighs a symptom word in the
description ("latency").
"""

from __future__ import annotations

from collections.abc import Mapping

from .vocabulary import CATEGORIES

__all__ = ["CATEGORIES"]

# Labels that say where, not what (a host name, an address): their values count as the
# resource. Labels that route or rank rather than describe are not read for terms.
WHERE_LABELS: frozenset[str] = frozenset({
    "instance", "host", "hostname", "node", "nodename", "node_name", "pod", "server",
    "vm", "url", "target", "ip", "address", "src", "dst", "src_ip", "dest_ip", "source_ip",
    "client_ip", "user", "username", "user_name", "account", "email", "userprincipalname",
    "agent", "member", "nas", "appliance", "cluster", "site", "datacenter", "region", "zone",
    "device_model", "model",
})
NOT_READ_LABELS: frozenset[str] = frozenset({
    "alertname", "category", "severity", "priority", "impact", "urgency", "env",
    "environment", "tier", "team", "assignment_group", "source_tool", "tool", "release",
    "version", "runbook", "runbook_url", "dashboard", "magnitude", "cvss",
})
# Labels naming the kind of resource in the vendor's own taxonomy (a CloudWatch
# namespace, an Azure resource type, a Google Cloud monitored resource type): the
# strongest statement of what the alert is about.
RESOURCE_TYPE_LABELS: frozenset[str] = frozenset({
    "namespace", "resourcetype", "resource_type", "resource.type", "resourceprovider",
    "metricnamespace", "sourcetype", "resource_provider",
})
TOOL_LABELS: tuple[str, ...] = ("source_tool", "tool")
"""Where an alert may name the tool that sent it (besides the ``source_tool``
annotation); a tool the vocabularies know counts for its category."""

LABEL_KEY_WEIGHT = 2.0

# Where a term was found -> how much it counts.
LOCATION_WEIGHTS: Mapping[str, float] = {
    "resource type": 5.0,
    "alertname": 3.0,
    "label": 3.0,
    "tool": 2.0,
    "title": 2.0,
    "summary": 2.0,
    "service": 2.0,
    "label name": 1.0,
    "resource": 1.0,
    "description": 1.0,
}

# An operator's own ``category`` label settles the question.
EXPLICIT_CATEGORY_WEIGHT = 10.0

# Words in the alert that mean users are cut off now, not merely degraded (matched on
# the folded, stemmed words of the texts the rules read).
OUTAGE_TERMS: frozenset[str] = frozenset({
    "down", "outage", "unavailable", "unreachable", "offline", "broken",
})
OUTAGE_PHRASES: tuple[str, ...] = (
    "no primary", "no healthy", "connection lost", "lost connection", "insufficient member",
    "on battery", "read only", "cut off", "no leader",
)
# Words that say the whole of something is out, not one part of it: every location
# failing, no member left to serve, nobody let in. Users are cut off and the impact is
# wide, whatever the severity the tool gave.
ALL_OUT_PHRASES: tuple[str, ...] = (
    "all regions", "all locations", "every region", "every location", "3 of 3",
    "completely", "entire", "no healthy", "no primary", "no leader", "insufficient member",
    "cannot accept", "internal only", "failover in progress", "whole site",
)
# Words that mean an attack is under way or has succeeded, not a finding to fix.
COMPROMISE_TERMS: frozenset[str] = frozenset({
    "ransomware", "malicious", "exfiltration", "malware", "trojan", "beacon", "backdoor",
    "compromised", "rootkit", "cryptominer", "webshell",
})
COMPROMISE_PHRASES: tuple[str, ...] = ("brute force", "lateral movement", "web shell")
# Findings and failed scheduled work: nobody is cut off, a fix within the working day.
# An exception an error tracker reports is a bug in one code path; the Emerging Threats
# rule set's POLICY and INFO groups flag use against policy, not attacks.
CAN_WAIT_TERMS: frozenset[str] = frozenset({
    "vulnerability", "cve", "violation", "misconfiguration", "exception",
})
CAN_WAIT_PHRASES: tuple[str, ...] = (
    "job failed", "backup failed", "build failed", "pipeline failed", "deployment failed",
    "sauvegarde", "sicherung", "copia de seguridad", "backup job", "et policy", "et info",
)
# A resource past a threshold and still serving (usage, utilisation): below critical,
# it is capacity to add within the working day, unless it says it is full or out.
PRESSURE_TERMS: frozenset[str] = frozenset({
    "usage", "utilization", "utilisation", "utilizacion", "auslastung", "uso",
})
PRESSURE_PHRASES: tuple[str, ...] = ("used capacity", "high cpu", "high memory")
# Alerts that only prove the alerting pipeline works.
NO_ACTION_TERMS: frozenset[str] = frozenset({"watchdog"})
NO_ACTION_PHRASES: tuple[str, ...] = ("always firing", "test alert")
