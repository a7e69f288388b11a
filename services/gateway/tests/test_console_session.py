"""A console form's nonce keys its commands (a repeat is applied once: the API's
idempotency tests); the CSRF field belongs to one token and the login goes only to a path
of this site."""

from reasonops_gateway.console import session
from reasonops_gateway.console.filters import span
from reasonops_gateway.console.forms import form_field
from reasonops_gateway.console.frame import local_path


def test_a_form_keeps_its_nonce_and_a_crafted_one_gets_a_fresh_one():
    mine = session.new_nonce()
    assert session.nonce_of(mine) == mine  # a repeat of the post: the same keys
    for crafted in (None, "", "short", "x" * 65, "with space-and-more", "../../etc", 3):
        fresh = session.nonce_of(crafted)
        assert fresh != crafted
        assert session.nonce_of(fresh) == fresh


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


def test_a_span_reads_as_people_say_it():
    assert [span(s) for s in (42, 90, 3600, 3725, 86400, 90000, 0.4)] == [
        "42 s", "1 min", "1 h", "1 h 2 min", "1 d", "1 d 1 h", "0 s"]
