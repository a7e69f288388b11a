"""E-mail goes to a real SMTP server (aiosmtpd); a channel that is not configured fails
saying what it needs; an SMTP server that does not answer is tried again."""

from __future__ import annotations

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message as Collect

from reasonops_oncall.channels import Channels, ChannelSettings, Message
from reasonops_runtime.ports import free_port_range


class Inbox(Collect):
    def __init__(self) -> None:
        super().__init__()
        self.mails: list = []

    def handle_message(self, message) -> None:
        self.mails.append(message)


async def test_email_goes_through_smtp_and_an_unset_channel_says_what_it_needs():
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port_range(1))
    smtp.start()
    try:
        channels = Channels(ChannelSettings(smtp_host="127.0.0.1", smtp_port=smtp.port,
                                            smtp_from="pager@reasonops.test"))
        sent = await channels.send("email", "ana@example.com",
                                   Message("[ReasonOps] P1 INC0000001", "checkout is down"))
        unset = await channels.send("sms", "+35190", Message("s", "t"))
        await channels.aclose()
    finally:
        smtp.stop()
    assert sent.outcome == "delivered"
    [mail] = inbox.mails
    assert (mail["To"], mail["From"], mail["Subject"]) == (
        "ana@example.com", "pager@reasonops.test", "[ReasonOps] P1 INC0000001")
    assert "checkout is down" in mail.get_payload()
    assert (unset.outcome, "REASONOPS_TWILIO_ACCOUNT_SID" in unset.detail) == ("failed", True)


async def test_an_unreachable_smtp_server_is_tried_again():
    channels = Channels(ChannelSettings(smtp_host="127.0.0.1", smtp_port=1,
                                        timeout_seconds=1))
    sent = await channels.send("email", "ana@example.com", Message("s", "t"))
    await channels.aclose()
    assert sent.outcome == "retrying"
