"""What the rules look for: keywords and label names per category, and where they count.

A term's score is its own weight times the weight of the place it was found, so a
technology name in the alert name (``PostgresReplicationLag``) outweighs a generic
symptom word in the description ("latency").
"""

from __future__ import annotations

from collections.abc import Mapping

from reasonops_contracts.agents import Category

CATEGORIES: tuple[Category, ...] = (
    "network", "database", "application", "security", "infrastructure", "storage",
)

# Term -> weight. Technology names are strong (2.0), generic symptoms weak (0.5-1.0).
# Terms are matched on word boundaries after camelCase and punctuation are split.
KEYWORDS: Mapping[Category, Mapping[str, float]] = {
    "database": {
        "postgres": 2.0, "postgresql": 2.0, "mysql": 2.0, "mysqld": 2.0, "mariadb": 2.0,
        "redis": 2.0, "mongodb": 2.0, "mongo": 2.0, "cassandra": 2.0, "oracle": 1.5,
        "mssql": 2.0, "sql": 1.5, "database": 2.0, "db": 1.0, "replication": 1.0,
        "deadlock": 2.0, "slow query": 2.0, "query": 1.0, "tablespace": 2.0,
        "connection pool": 1.0, "elasticsearch": 1.5, "pgbouncer": 2.0,
        "clickhouse": 2.0, "memcached": 2.0, "rds": 2.0, "aurora": 2.0, "galera": 2.0,
        "patroni": 2.0, "dtu": 1.5, "sqlserver": 2.0, "dynamodb": 2.0,
    },
    "storage": {
        "disk": 2.0, "volume": 1.5, "pvc": 2.0, "persistent volume": 2.0, "iops": 2.0,
        "filesystem": 2.0, "inode": 2.0, "mountpoint": 1.5, "mount": 1.0, "nfs": 2.0,
        "ebs": 2.0, "s3": 1.5, "bucket": 1.0, "raid": 2.0, "ceph": 2.0, "storage": 2.0,
        "no space left": 2.0, "read only": 1.0, "smart": 1.0,
        "datastore": 2.0, "lun": 2.0, "san": 1.5, "nas": 2.0, "minio": 2.0, "efs": 2.0,
        "drive": 1.0, "aggregate": 1.0, "netapp": 2.0, "flasharray": 2.0, "disco": 2.0,
        "festplatte": 2.0, "disque": 2.0, "espacio": 1.0, "backup": 1.0,
    },
    "network": {
        "latency": 1.0, "packet": 2.0, "dns": 2.0, "tcp": 1.5, "udp": 1.5, "bgp": 2.0,
        "interface": 1.5, "network": 2.0, "load balancer": 1.5, "ingress": 1.0,
        "unreachable": 1.5, "ping": 1.0, "icmp": 2.0, "vpn": 2.0, "bandwidth": 2.0,
        "jitter": 2.0, "router": 1.5, "switch": 1.0, "blackbox": 1.5, "firewall": 1.0,
        "connection refused": 1.0, "timeout": 0.5, "nic": 2.0,
        "nat": 2.0, "wan": 2.0, "lan": 1.5, "link": 1.0, "port flapping": 2.0, "rtt": 2.0,
        "elb": 1.5, "alb": 1.5, "gateway": 0.5, "netzwerk": 2.0, "netzwerkschnittstelle": 2.0,
        "reseau": 2.0, "latence": 1.0, "site": 0.5, "isp": 2.0, "office": 0.5,
    },
    "security": {
        "auth": 2.0, "authentication": 2.0, "login": 2.0, "cve": 3.0, "vulnerability": 2.0,
        "intrusion": 3.0, "brute force": 3.0, "malware": 3.0, "tls cert": 2.0,
        "certificate": 2.0, "cert": 2.0, "unauthorized": 2.0, "access denied": 2.0,
        "waf": 2.0, "ddos": 2.0, "suspicious": 2.0, "password": 1.5, "privilege": 2.0,
        "firewall": 1.0, "ssh": 1.0, "secret": 1.0, "forbidden": 1.0,
        "malicious": 3.0, "ransomware": 3.0, "exfiltration": 3.0, "credential": 2.0,
        "mfa": 2.0, "sudoers": 2.0, "lsass": 3.0, "shell in container": 3.0,
        "guardduty": 2.0, "recon": 2.0, "scanner": 1.5, "exposed": 1.5, "leak": 1.5,
        "file integrity": 2.0, "phishing": 3.0, "zertifikat": 2.0, "certificat": 2.0,
        "certificado": 2.0, "unauthorized request": 2.0, "attack": 2.0,
    },
    "infrastructure": {
        "cpu": 2.0, "memory": 1.5, "node": 1.5, "kubelet": 2.0, "oom": 2.0,
        "oomkilled": 2.0, "host": 1.5, "vm": 1.5, "hypervisor": 2.0, "kernel": 2.0,
        "swap": 2.0, "load average": 1.5, "hardware": 2.0, "temperature": 1.5,
        "power": 1.5, "ntp": 1.5, "clock skew": 1.5, "etcd": 1.5, "kubernetes": 1.0,
        "cluster": 1.0, "instance down": 1.5,
        "ups": 2.0, "battery": 2.0, "psu": 2.0, "dimm": 2.0, "ecc": 2.0, "target down": 1.5,
        "hpa": 2.0, "autoscaler": 1.5, "steal": 1.5, "heartbeat": 1.0, "reboot": 1.0,
        "restarted": 1.0, "temperatur": 1.5, "temperature cpu": 1.5,
    },
    "application": {
        "http": 1.0, "5xx": 2.0, "500": 1.5, "502": 1.5, "503": 1.5, "504": 1.5,
        "error rate": 2.0, "error": 1.0, "exception": 2.0, "deploy": 2.0,
        "deployment": 1.5, "rollout": 1.5, "release": 1.0, "crash": 1.5,
        "crashloopbackoff": 2.0, "panic": 2.0, "stack trace": 2.0, "api": 1.0,
        "endpoint": 1.0, "request": 1.0, "response time": 1.0, "apdex": 2.0, "slo": 1.0,
        "heap": 1.5, "null pointer": 2.0, "frontend": 1.5, "backend": 1.0,
    },
}

# Label *names* whose mere presence points at a category (exporters set them).
LABEL_KEYS: Mapping[Category, frozenset[str]] = {
    "storage": frozenset({"device", "mountpoint", "fstype", "persistentvolumeclaim"}),
    "network": frozenset({"interface", "ifname", "peer", "peer_address"}),
    "database": frozenset({"datname", "database", "db", "schema"}),
    "application": frozenset({"status_code", "handler", "route", "http_method", "endpoint"}),
    "security": frozenset({"cve", "cve_id", "user_name", "src_ip"}),
    "infrastructure": frozenset({"cpu", "kubelet_version", "node_name"}),
}
LABEL_KEY_WEIGHT = 2.0

# Labels that name the software behind the alert; their values are scored like text.
IDENTITY_LABELS: tuple[str, ...] = (
    "job", "service", "app", "app_kubernetes_io_name", "container", "component", "exporter",
)

# Where a term was found -> how much it counts.
LOCATION_WEIGHTS: Mapping[str, float] = {
    "alertname": 3.0,
    "label": 3.0,
    "title": 2.0,
    "summary": 2.0,
    "service": 2.0,
    "resource": 1.0,
    "description": 1.0,
}

# An operator's own ``category`` label settles the question.
EXPLICIT_CATEGORY_WEIGHT = 10.0

# Words in the alert that mean users are cut off now, not merely degraded.
OUTAGE_TERMS: frozenset[str] = frozenset({
    "down", "outage", "unavailable", "unreachable", "offline",
})
