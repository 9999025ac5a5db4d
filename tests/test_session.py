"""What identifies a browser across reloads: the token inside Streamlit's XSRF cookie."""

from streamlit.web.server.starlette.starlette_app_utils import generate_xsrf_token_string

from dashboard.session import xsrf_token


def test_the_token_is_the_same_under_every_mask_and_differs_between_browsers():
    token = bytes(range(16))
    first, second = generate_xsrf_token_string(token), generate_xsrf_token_string(token)
    assert first != second  # Streamlit re-masks the cookie on every response...
    assert xsrf_token(first) == xsrf_token(second) == token  # ...the token inside stays
    assert xsrf_token(generate_xsrf_token_string(bytes(16))) != token
    assert xsrf_token(f'"{first}"') == token and xsrf_token(token.hex()) == token  # quoted; version 1


def test_a_cookie_that_is_not_a_token_identifies_nobody():
    for cookie in ("", "2|zz|yy|1", "2||abcd|1", "not hex", "2|0102|"):
        assert xsrf_token(cookie) is None
