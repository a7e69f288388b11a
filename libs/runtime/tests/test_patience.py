"""A starting service asks JetStream again while it goes unanswered, and only then."""

import nats.errors
import pytest
from nats.js.errors import BadRequestError, ServiceUnavailableError

from reasonops_runtime.jetstream import patiently, unanswered


def test_only_a_missing_answer_is_worth_asking_again():
    assert unanswered(nats.errors.TimeoutError())
    assert unanswered(nats.errors.NoRespondersError())
    assert unanswered(ServiceUnavailableError())
    assert not unanswered(BadRequestError())  # what was asked is wrong: asking again won't do
    assert not unanswered(PermissionError("no"))


async def test_unanswered_calls_are_asked_again_until_one_is_answered():
    errors = [nats.errors.TimeoutError(), ServiceUnavailableError()]
    calls = 0

    async def call() -> str:
        nonlocal calls
        calls += 1
        if errors:
            raise errors.pop(0)
        return "answered"

    assert await patiently("test", call) == "answered"
    assert calls == 3


async def test_a_refusal_is_raised_at_once_and_patience_ends():
    calls = 0

    async def refused() -> None:
        nonlocal calls
        calls += 1
        raise BadRequestError()

    with pytest.raises(BadRequestError):
        await patiently("test", refused)
    assert calls == 1

    async def silent() -> None:
        raise nats.errors.TimeoutError()

    with pytest.raises(nats.errors.TimeoutError):
        await patiently("test", silent, patience=0)
