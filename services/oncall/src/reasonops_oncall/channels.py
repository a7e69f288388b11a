"""Contact channels, each speaking its provider's real API: SMS and voice calls through a
Twilio-compatible REST API (``Messages.json``, ``Calls.json`` with TwiML), Slack's
``chat.postMessage`` (with buttons to acknowledge, resolve or escalate, answered at the
gateway's ``/slack/interactivity``), a Microsoft Teams incoming webhook or Workflows
URL (an Adaptive Card), PagerDuty Events API v2 (a trigger to an existing PagerDuty
service, the contact's address its routing key), e-mail over SMTP, and a JSON webhook. A
send answers how it went: delivered; retrying (the provider said 429 or 5xx, or did not
answer; with its ``Retry-After``); failed (refused, or the channel is not configured).
Secrets (the Twilio and Slack tokens, the SMTP password) are
read from files or the environment and never logged or put in a detail."""

from __future__ import annotations

import asyncio
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from html import escape
from pathlib import Path

import httpx

DEFAULT_RETRY_SECONDS = 30.0
MAX_RETRY_SECONDS = 600.0


@dataclass(frozen=True)
class Sent:
    outcome: str
    """delivered, retrying or failed"""
    detail: str = ""
    retry_after: float | None = None


@dataclass(frozen=True)
class ChannelSettings:
    twilio_url: str = "https://api.twilio.com"
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "reasonops@localhost"
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    slack_url: str = "https://slack.com/api"
    slack_bot_token: str | None = None
    pagerduty_url: str = "https://events.pagerduty.com/v2/enqueue"
    timeout_seconds: float = 5.0


def secret(value: str | None, file: Path | None) -> str | None:
    """A secret from its file (first line), else as given (the environment)."""
    if file is not None:
        return file.read_text().strip() or None
    return value or None


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    link: str = ""
    """The signed link's URL (its last part, the token, is the Slack buttons' value)."""
    incident_id: str = ""


class Channels:
    def __init__(self, settings: ChannelSettings, http: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self.http = http or httpx.AsyncClient(timeout=settings.timeout_seconds)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def send(self, kind: str, address: str, message: Message) -> Sent:
        try:
            if kind == "sms":
                return await self._twilio("Messages.json", {"To": address,
                                                            "Body": message.text[:1500]})
            if kind == "voice":
                twiml = f"<Response><Say>{escape(message.text[:1000])}</Say></Response>"
                return await self._twilio("Calls.json", {"To": address, "Twiml": twiml})
            if kind == "email":
                return await self._email(address, message)
            if kind == "slack":
                return await self._slack(address, message)
            if kind == "teams":
                return _answered(await self.http.post(address, json=_card(message)))
            if kind == "pagerduty":
                return _answered(await self.http.post(self.settings.pagerduty_url, json={
                    "routing_key": address, "event_action": "trigger",
                    "dedup_key": message.incident_id or message.subject,
                    "payload": {"summary": message.text[:1024], "source": "reasonops",
                                "severity": "critical"},
                    **({"links": [{"href": message.link, "text": "Act in ReasonOps"}]}
                       if message.link else {})}))
            if kind == "webhook":
                return _answered(await self.http.post(address, json={
                    "subject": message.subject, "text": message.text}))
        except httpx.HTTPError as exc:
            return Sent("retrying", f"no answer ({exc.__class__.__name__})",
                        DEFAULT_RETRY_SECONDS)
        return Sent("failed", f"no {kind} channel in this release")

    async def _twilio(self, resource: str, form: dict[str, str]) -> Sent:
        s = self.settings
        if not (s.twilio_account_sid and s.twilio_auth_token and s.twilio_from):
            return Sent("failed", "SMS and voice need REASONOPS_TWILIO_ACCOUNT_SID, "
                                  "_AUTH_TOKEN (or _AUTH_TOKEN_FILE) and _FROM")
        url = f"{s.twilio_url.rstrip('/')}/2010-04-01/Accounts/{s.twilio_account_sid}/{resource}"
        response = await self.http.post(url, data={**form, "From": s.twilio_from},
                                        auth=(s.twilio_account_sid, s.twilio_auth_token))
        sent = _answered(response)
        if sent.outcome == "delivered":
            sid = response.json().get("sid", "")
            return Sent("delivered", f"accepted as {sid}" if sid else "accepted")
        return sent

    async def _slack(self, channel: str, message: Message) -> Sent:
        token = self.settings.slack_bot_token
        if not token:
            return Sent("failed", "Slack needs REASONOPS_SLACK_BOT_TOKEN (or _FILE)")
        value = message.link.rsplit("/", 1)[-1]
        buttons = [{"type": "button", "action_id": f"oncall_{action}", "value": value,
                    "text": {"type": "plain_text", "text": label},
                    **({"style": "primary"} if action == "acknowledge" else {})}
                   for action, label in (("acknowledge", "Acknowledge"),
                                         ("resolve", "Resolve"), ("escalate", "Escalate now"))]
        response = await self.http.post(
            f"{self.settings.slack_url.rstrip('/')}/chat.postMessage",
            headers={"Authorization": f"Bearer {token}"},
            json={"channel": channel, "text": message.text, "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": message.text}},
                {"type": "actions", "elements": buttons}]})
        sent = _answered(response)
        if sent.outcome != "delivered":
            return sent
        answer = response.json()
        if not answer.get("ok"):  # Slack says no in a 200: channel_not_found, ...
            error = str(answer.get("error", "unknown"))
            if error == "ratelimited":
                return Sent("retrying", "Slack: ratelimited", DEFAULT_RETRY_SECONDS)
            return Sent("failed", f"Slack: {error}")
        return Sent("delivered", f"posted in {answer.get('channel', channel)}")

    async def _email(self, address: str, message: Message) -> Sent:
        s = self.settings
        if not s.smtp_host:
            return Sent("failed", "e-mail needs REASONOPS_SMTP_HOST")
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = s.smtp_from, address, message.subject
        mail.set_content(message.text)

        def deliver() -> None:
            with smtplib.SMTP(s.smtp_host or "", s.smtp_port,
                              timeout=s.timeout_seconds) as smtp:
                if s.smtp_starttls:
                    smtp.starttls()
                if s.smtp_user and s.smtp_password:
                    smtp.login(s.smtp_user, s.smtp_password)
                smtp.send_message(mail)
        try:
            await asyncio.to_thread(deliver)
        except smtplib.SMTPResponseException as exc:
            if 400 <= exc.smtp_code < 500:  # a temporary refusal: try again
                return Sent("retrying", f"SMTP {exc.smtp_code}", DEFAULT_RETRY_SECONDS)
            return Sent("failed", f"SMTP {exc.smtp_code}")
        except (OSError, smtplib.SMTPException) as exc:
            return Sent("retrying", f"SMTP not reachable ({exc.__class__.__name__})",
                        DEFAULT_RETRY_SECONDS)
        return Sent("delivered", "accepted by the SMTP server")


def _card(message: Message) -> dict[str, object]:
    """A Teams message carrying an Adaptive Card (what incoming webhooks and Workflows
    take), with the page's link as its action."""
    card: dict[str, object] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard", "version": "1.4",
        "body": [{"type": "TextBlock", "text": message.subject, "weight": "Bolder",
                  "wrap": True},
                 {"type": "TextBlock", "text": message.text, "wrap": True}]}
    if message.link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Acknowledge, resolve or "
                            "escalate", "url": message.link}]
    return {"type": "message", "attachments": [{
        "contentType": "application/vnd.microsoft.card.adaptive", "content": card}]}


def _answered(response: httpx.Response) -> Sent:
    if response.is_success:
        return Sent("delivered", f"HTTP {response.status_code}")
    if response.status_code == 429 or response.status_code >= 500:
        return Sent("retrying", f"HTTP {response.status_code}",
                    _retry_after(response.headers.get("Retry-After")))
    return Sent("failed", f"HTTP {response.status_code}")


def _retry_after(header: str | None) -> float:
    try:
        seconds = float(header) if header else DEFAULT_RETRY_SECONDS
    except ValueError:
        seconds = DEFAULT_RETRY_SECONDS
    return min(MAX_RETRY_SECONDS, max(1.0, seconds))
