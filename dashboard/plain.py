"""Text from outside, shown as text: never as Markdown, HTML, a link, an image or math.

`st.error`, `st.warning`, `st.info`, `st.success`, `st.caption`, `st.markdown` and widget labels
all render Markdown. A value from a shared link, a text box or an uploaded file shown through them
could put a working link or a remote image in front of a class, inside RNN Lab's own message box.
So every such value goes through this module:

- `code(value)`: the value as an inline code span, shown exactly as typed, for a message the
  dashboard writes around it (`f"Unknown setting {code(name)}"`);
- `escape(text)`: a whole sentence made literal, for messages that already embed outside values
  (rnn_core's errors quote what was typed);
- `error`, `warning`, `info`: an alert box showing literal text, the usual way to use `escape`.
"""

from __future__ import annotations

import re
import string

import streamlit as st

MAX_SHOWN = 200  # characters of one outside value shown; the rest is cut with "…"
ZERO_WIDTH = "\u200b"  # an invisible space: breaks what GitHub-flavoured Markdown would turn into a link
MAX_MESSAGE = 600  # characters of a whole message that embeds outside values
_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")


def _short(value: object, limit: int = MAX_SHOWN) -> str:
    text = " ".join(str(value).split())  # no newlines: they would end a code span or a list item
    return text if len(text) <= limit else text[: limit - 1] + "…"


def code(value: object) -> str:
    """`value` as an inline code span: Markdown shows what is inside literally."""
    text = _short(value)
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * (longest + 1)  # a fence longer than any run of backticks inside
    return f"{fence} {text} {fence}"


def escape(text: object) -> str:
    """`text` made literal: every ASCII punctuation character backslash-escaped (CommonMark allows
    all of them), and web addresses broken with an invisible space. Escapes alone do not stop
    GitHub-flavoured Markdown, which Streamlit renders, from turning `https://…`, `www.…` or
    `name@host` found in the text into links after parsing."""
    text = _short(text, MAX_MESSAGE)
    text = re.sub(
        r"(?i)(:)(//)|(@)()|\b(www)(\.)",
        lambda m: ZERO_WIDTH.join(g for g in m.groups() if g is not None),
        text,
    )
    return _PUNCTUATION.sub(r"\\\1", text)


def error(text: object) -> None:
    st.error(escape(text))


def warning(text: object) -> None:
    st.warning(escape(text))


def info(text: object) -> None:
    st.info(escape(text))
