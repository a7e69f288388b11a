"""Prometheus metrics every service exports; services add their own to ``registry``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from sqlalchemy import ColumnElement, Select, Table, func, select

if TYPE_CHECKING:
    from .store import Store


class KitMetrics:
    """The pipeline-health metrics the kit records for every service."""

    def __init__(self, service: str, registry: CollectorRegistry | None = None) -> None:
        self.service = service
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.messages = Counter(
            "reasonops_messages_total",
            "Messages taken from JetStream, by consumer and outcome "
            "(handled, duplicate, ignored, retried, deferred, dead_lettered)",
            ["service", "consumer", "outcome"], registry=r)
        self.batch_seconds = Histogram(
            "reasonops_handler_batch_seconds",
            "Time to handle one fetched batch: transaction, outbox publish and acks",
            ["service", "consumer"], registry=r,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
        self.pending = Gauge(
            "reasonops_consumer_pending_messages",
            "Messages in the stream not yet delivered to this durable consumer (lag)",
            ["service", "consumer"], registry=r)
        self.outbox_published = Counter(
            "reasonops_outbox_published_total", "Events relayed from the outbox to JetStream",
            ["service"], registry=r)
        self.outbox_backlog = Gauge(
            "reasonops_outbox_backlog", "Events committed but not yet acknowledged by JetStream",
            ["service"], registry=r)
        self.requests = Counter(
            "reasonops_requests_total", "Commands and queries answered, by subject and outcome",
            ["service", "subject", "outcome"], registry=r)
        self.request_seconds = Histogram(
            "reasonops_request_seconds", "Time to answer a command or query",
            ["service", "subject"], registry=r)
        self.timers_fired = Counter(
            "reasonops_timers_fired_total", "Durable timers fired, by kind",
            ["service", "kind"], registry=r)
        self.up = Gauge("reasonops_service_ready", "1 when the service is ready", ["service"],
                        registry=r)
        self.db_statements = Histogram(
            "reasonops_db_statement_seconds",
            "Time each database statement took, as the service waited for it",
            ["service"], registry=r,
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5))


class CountGauge:
    """A gauge of rows in one of the service's tables, counted by some of its columns.

    Read from the store on a timer (``Service.refresh_every``), so it tells the truth
    after a restart and every replica of a service reports the same figure (aggregate
    with ``max`` across replicas).
    """

    def __init__(self, name: str, documentation: str, table: Table,
                 labels: Mapping[str, str], registry: CollectorRegistry, *,
                 where: ColumnElement[bool] | None = None,
                 formats: Mapping[str, Callable[[Any], str]] | None = None) -> None:
        self.table = table
        self.columns = [table.c[column] for column in labels.values()]
        self.where = where
        self.formats = dict(formats or {})
        self.label_names = list(labels)
        self.gauge = Gauge(name, documentation, self.label_names, registry=registry)

    def query(self) -> Select[Any]:
        """The count it reads. It runs every few seconds for as long as the service does,
        on tables that only grow: ``where`` should name what an index finds (``state IN
        (...)``), not what it excludes, or each refresh reads every row ever written."""
        query = select(*self.columns, func.count()).select_from(self.table).group_by(
            *self.columns)
        return query if self.where is None else query.where(self.where)

    async def refresh(self, store: Store) -> None:
        async with store.read() as session:
            rows = (await session.execute(self.query())).all()
        self.gauge.clear()  # no await from here on: a scrape never sees it half set
        for *values, count in rows:
            labels = [self.formats.get(n, _text)(v) for n, v in zip(self.label_names, values,
                                                                     strict=True)]
            self.gauge.labels(*labels).set(count)


def _text(value: Any) -> str:
    return "" if value is None else str(getattr(value, "value", value))
