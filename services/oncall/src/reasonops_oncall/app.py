"""Composition root of the on-call service."""

from __future__ import annotations

import logging
from pathlib import Path

from pydantic import Field, field_validator

from reasonops_contracts import ReplyError, durables
from reasonops_contracts.incidents import CoveringSilence, GetCoveringSilence
from reasonops_runtime import Clock, Service, ServiceSettings, policy_file
from reasonops_runtime.catalog_file import load_catalog
from reasonops_runtime.client import request
from reasonops_runtime.enforcement import Enforcer

from .channels import Channels, ChannelSettings, secret
from .commands import OverrideCommands, PageCommands
from .current import CurrentRoster, RosterFile
from .handlers import LEVEL_TIMER, Pager
from .links import key_from, sign
from .metrics import OnCallMetrics
from .notifications import NOTIFY_TIMER, Notifications
from .queries import OnCallQueries
from .store import metadata

log = logging.getLogger(__name__)


class OnCallSettings(ServiceSettings):
    service_name: str = "oncall"
    oncall: Path | None = Field(
        default=None, description="REASONOPS_ONCALL: YAML file of users (time zones, "
        "contacts), teams, schedules (rotations in layers, restrictions, overrides) and "
        "which schedule answers for a service; reloaded when the file changes")
    service_catalog: Path | None = Field(
        default=None, description="REASONOPS_SERVICE_CATALOG: a service's owning team, "
        "whose schedule answers for it unless the on-call file names one")

    twilio_url: str = Field(default="https://api.twilio.com", description=(
        "REASONOPS_TWILIO_URL: a Twilio-compatible REST API for SMS and voice calls"))
    twilio_account_sid: str | None = Field(default=None, description=(
        "REASONOPS_TWILIO_ACCOUNT_SID"))
    twilio_auth_token: str | None = Field(default=None, description=(
        "REASONOPS_TWILIO_AUTH_TOKEN (or _FILE); never logged"))
    twilio_auth_token_file: Path | None = None
    twilio_from: str | None = Field(default=None, description=(
        "REASONOPS_TWILIO_FROM: the number SMS and calls come from"))
    smtp_host: str | None = Field(default=None, description="REASONOPS_SMTP_HOST: for e-mail")
    smtp_port: int = 25
    smtp_from: str = "reasonops@localhost"
    smtp_user: str | None = None
    smtp_password_file: Path | None = Field(default=None, description=(
        "REASONOPS_SMTP_PASSWORD_FILE; never logged"))
    smtp_starttls: bool = False
    slack_url: str = Field(default="https://slack.com/api", description=(
        "REASONOPS_SLACK_URL: Slack's Web API (chat.postMessage)"))
    slack_bot_token: str | None = Field(default=None, description=(
        "REASONOPS_SLACK_BOT_TOKEN (or _FILE): a bot token with chat:write; never logged"))
    slack_bot_token_file: Path | None = None
    pagerduty_url: str = Field(default="https://events.pagerduty.com/v2/enqueue",
                               description="REASONOPS_PAGERDUTY_URL: PagerDuty's Events API "
                               "v2, for contacts of kind pagerduty (their routing keys)")
    public_url: str = Field(default="http://127.0.0.1:8080", description=(
        "REASONOPS_PUBLIC_URL: where people reach the gateway; the links in pages "
        "(acknowledge, resolve, escalate) point there"))

    @field_validator("oncall", "service_catalog", "twilio_auth_token_file",
                     "smtp_password_file", "twilio_account_sid", "twilio_auth_token",
                     "slack_bot_token", "slack_bot_token_file",
                     "twilio_from", "smtp_host", "smtp_user", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


def build_service(settings: OnCallSettings | None = None, *,
                  clock: Clock | None = None) -> Service:
    """A wrong on-call or catalog file stops the service here, saying what is wrong."""
    settings = settings or OnCallSettings()
    service = Service("oncall", settings, metadata=(metadata,), clock=clock)
    roster = CurrentRoster(service, RosterFile.open(settings.oncall, service.clock.now()))
    enforcer = Enforcer(policy_file.configured(settings.policy), "oncall")
    catalog = load_catalog(settings.service_catalog)
    OnCallQueries(service, roster, enforcer, catalog).register()
    OverrideCommands(service, roster, enforcer).register()
    channels = Channels(ChannelSettings(
        twilio_url=settings.twilio_url, twilio_account_sid=settings.twilio_account_sid,
        twilio_auth_token=secret(settings.twilio_auth_token, settings.twilio_auth_token_file),
        twilio_from=settings.twilio_from, smtp_host=settings.smtp_host,
        smtp_port=settings.smtp_port, smtp_from=settings.smtp_from,
        smtp_user=settings.smtp_user, smtp_password=secret(None, settings.smtp_password_file),
        smtp_starttls=settings.smtp_starttls, slack_url=settings.slack_url,
        slack_bot_token=secret(settings.slack_bot_token, settings.slack_bot_token_file),
        pagerduty_url=settings.pagerduty_url))
    key = key_from(settings.identity_key_file(), settings.data_dir)
    public_url = settings.public_url.rstrip("/")
    async def covering(incident_id: str) -> CoveringSilence | None:
        """Asked of the incident service; a page goes out when it does not answer."""
        try:
            return await request(service.nc, GetCoveringSilence(incident_id=incident_id),
                                 CoveringSilence, timeout=2.0)
        except (ReplyError, TimeoutError, OSError) as exc:
            log.warning("could not ask whether a silence covers the incident; paging",
                        extra={"incident_id": incident_id, "error": str(exc)})
            return None

    metrics = OnCallMetrics(service.registry)
    pager = Pager(roster=roster, catalog=catalog, clock=service.clock, metrics=metrics,
                  covering=covering)
    notifications = Notifications(
        roster=roster, channels=channels, clock=service.clock, metrics=metrics,
        link=lambda incident, user: f"{public_url}/page/"
                                    f"{sign(key, incident, user, service.clock.now())}")
    PageCommands(service, pager, key).register()
    service.consume(durables.ONCALL_INCIDENTS, pager.router(), background=True)
    service.on_timer(LEVEL_TIMER, pager.level_due)
    service.on_timers(NOTIFY_TIMER, notifications.due)
    service.shutdown_hooks.append(channels.aclose)
    return service
