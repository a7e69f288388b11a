"""The console's change pages in a real Chromium against the real gateway and change
management: the calendar and the list show a change the day it is planned; its page
starts and completes it for whoever may ``change.implement``, and shows no action to
whoever may not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reasonops_sdk import AsyncReasonOpsClient
from tests.integration.test_console import logged_in, screenshots

pytestmark = pytest.mark.nats


async def test_the_calendar_shows_a_change_and_its_page_takes_it_through(
        gateway_engine, browser):
    url = gateway_engine["url"]
    now = datetime.now(UTC)
    async with AsyncReasonOpsClient(url, gateway_engine["admin"]) as sdk:
        made = await sdk.request_change(
            "emergency", now, title="Roll checkout back to v2.14", services=["checkout"],
            planned_end=now + timedelta(hours=2), implementation_plan="helm rollback checkout 41",
            backout_plan="helm rollback checkout 42")
    assert made.state == "approved"

    page = await logged_in(browser, url, gateway_engine["admin"])
    await page.goto(f"{url}/changes")
    today = page.locator("[data-testid=calendar] tbody tr").first
    assert made.change_id in (await today.text_content() or "")
    assert await page.locator(f"tr[data-change='{made.change_id}']").count() == 1
    await screenshots(page, "changes")

    await page.click(f"tr[data-change='{made.change_id}'] a")
    await page.wait_for_url(f"{url}/changes/{made.change_id}")
    assert await page.text_content("[data-testid=change-state]") == "approved"
    await page.click("button[data-action=start]")
    await page.wait_for_url(f"{url}/changes/{made.change_id}?done=start")
    assert await page.text_content("[data-testid=change-state]") == "implementing"
    await page.select_option("form[action$='/complete'] select[name=outcome]", "backed_out")
    await page.fill("form[action$='/complete'] input[name=note]", "v2.14 lacks the schema fix")
    await page.click("button[data-action=complete]")
    await page.wait_for_url(f"{url}/changes/{made.change_id}?done=complete")
    assert await page.text_content("[data-testid=change-state]") == "completed"
    assert "backed out" in (await page.text_content("dl.facts") or "")
    await screenshots(page, "change")

    # olga may read checkout's changes but not implement them: no action is offered.
    reader = await logged_in(browser, url, gateway_engine["olga"])
    await reader.goto(f"{url}/changes/{made.change_id}")
    assert await reader.text_content("[data-testid=change-state]") == "completed"
    assert await reader.locator("section[aria-labelledby=act]").count() == 0
