"""A console form applies once: a repeat of a form that was applied is ignored, a form
that was not applied (refused, no answer) may be sent again; the CSRF field belongs to
one token and the login goes only to a path of this site."""

from reasonops_gateway.console import session
from reasonops_gateway.console.frame import form_field, local_path


def test_a_form_applies_once_and_a_failed_one_may_be_sent_again():
    nonces = session.Nonces(size=3)
    assert nonces.first_use("token-a", "n1")
    assert not nonces.first_use("token-a", "n1")  # a double click
    assert nonces.first_use("token-b", "n1")  # another person's form
    nonces.forget("token-a", "n1")  # the API refused it or did not answer
    assert nonces.first_use("token-a", "n1")
    for n in ("n2", "n3", "n4"):
        nonces.first_use("token-a", n)
    assert nonces.first_use("token-b", "n1")  # the oldest are let go


def test_the_csrf_field_is_the_tokens_own():
    assert session.csrf_of("token-a") == session.csrf_of("token-a")
    assert session.csrf_of("token-a") != session.csrf_of("token-b")
    assert "token-a" not in session.csrf_of("token-a")


def test_after_login_only_a_path_of_this_site():
    assert local_path("/incidents?state=new") == "/incidents?state=new"
    for elsewhere in ("https://evil.example/", "//evil.example/x", "incidents", None, 3):
        assert local_path(elsewhere) == "/"


def test_an_api_field_is_the_form_input_it_names():
    assert form_field("body.assignment_group") == "group"
    assert form_field("body.note") == "note"
    assert form_field(None) is None
