"""Outside text is shown as text: the helpers every message with a value from outside goes through."""

import re

import pytest

from dashboard.plain import MAX_MESSAGE, MAX_SHOWN, ZERO_WIDTH, code, escape

ATTACKS = [
    "[Log in](https://evil.example/login)",
    "![t](https://evil.example/t.png)",
    "<img src=x onerror=alert(1)>",
    "<a href='https://evil.example'>x</a>",
    "$\\href{https://evil.example}{k}$",
    ":red[alarm] :material/warning:",
    "**bold** _it_ `code` ``two``",
    "https://evil.example/autolink www.evil.example WWW.evil.example mail@evil.example",
    "line one\n# heading\n- item",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_escape_leaves_no_markdown_punctuation_unescaped(attack):
    shown = escape(attack)
    unescaped = re.sub(r"\\.", "", shown)  # what remains once every escaped character is removed
    assert not re.search(r"[\[\]()<>!`*_$:#\\-]", unescaped)
    assert "\n" not in shown
    read = re.sub(r"\\(.)", r"\1", shown)  # what a student reads
    assert read.replace(ZERO_WIDTH, "") == " ".join(attack.split())  # the text itself, all of it
    assert not re.search(r"(?i)://|@\w|www\.", read)  # nothing GitHub-flavoured Markdown would link


@pytest.mark.parametrize("attack", ATTACKS)
def test_code_quotes_with_a_fence_longer_than_any_backticks_inside(attack):
    shown = code(attack)
    fence = re.match(r"`+", shown).group()
    inside = shown[len(fence) : -len(fence)]
    assert shown.endswith(fence) and "\n" not in shown
    assert max((len(r) for r in re.findall("`+", inside)), default=0) < len(fence)
    assert inside.strip() == " ".join(attack.split())


def test_long_outside_text_is_cut():
    assert len(code("x" * 10_000)) < MAX_SHOWN + 10 and code("x" * 10_000).strip("` ").endswith("…")
    assert len(re.sub(r"\\(.)", r"\1", escape("y" * 10_000))) == MAX_MESSAGE
