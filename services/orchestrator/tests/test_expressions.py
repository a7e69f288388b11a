"""The condition and template language: safe, small, total."""

import pytest

from reasonops_orchestrator.expressions import ExpressionError, evaluate, parse, render

CTX = {"trigger": {"priority": 1, "title": "Disk full", "labels": {"team": "db"},
                   "ids": ["INC1", "INC2"]},
       "steps": {"triage": {"state": "completed", "output": {"confidence": 0.7}}}}


@pytest.mark.parametrize(("text", "expected"), [
    ("steps.triage.output.confidence >= 0.5", True),
    ("trigger.priority in [1, 2] and not trigger.labels.team == 'web'", True),
    ("trigger.priority not in [1, 2] or trigger.labels.team != 'db'", False),
    ("trigger.missing.deeper > 3", False),
    ("trigger.missing == null", True),
    ("(trigger.priority < 2) and steps.triage.state == \"completed\"", True),
    ("trigger.ids.1 == 'INC2'", True),
    ("trigger.nothing or 'fallback'", "fallback"),
])
def test_evaluate(text, expected):
    assert evaluate(parse(text), CTX) == expected


@pytest.mark.parametrize("text", ["", "a ==", "__import__('os')", "a = 1", "1 +", "(a"])
def test_bad_syntax_is_refused(text):
    with pytest.raises(ExpressionError):
        parse(text)


def test_templates_keep_types_when_whole_and_fill_text_otherwise():
    assert render({"p": "${trigger.priority}", "t": "P${trigger.priority}: ${trigger.title}",
                   "n": ["${trigger.labels.team}", 3]}, CTX) == {
        "p": 1, "t": "P1: Disk full", "n": ["db", 3]}


def test_an_expression_is_parsed_once():
    first = parse("trigger.severity or 'critical'")
    assert parse("trigger.severity or 'critical'") is first
    with pytest.raises(ExpressionError):
        parse("a ==")
    with pytest.raises(ExpressionError):  # an error is not remembered as a tree
        parse("a ==")
