"""What every page draws the same way: its title, its charts, and the projector setting.

A teacher projecting RNN Lab sets projector mode (a sidebar toggle, kept in the page address as
`projector=on` like every other setting): larger type, taller charts, the sidebar folded away.
Charts get their text sizes here (`charts.readable`), so no page sizes one by hand.
"""

from __future__ import annotations

import altair as alt
import streamlit as st

from dashboard import charts, state

# Projector mode's page text: Streamlit sizes its text in rem, so the root size scales it all.
PROJECTOR_CSS = "<style>html { font-size: 24px; }</style>"

# After a run ends, the Train button is enabled again, but the browser dropped focus to the page
# body when the button it was on (Train or Stop) was disabled. Put it back on Train, so a keyboard
# user's next Space starts the next run; never take focus from anything else the student is on.
FOCUS_TRAIN = f"""<script>
(() => {{
  let tries = 20;
  const focusTrain = () => {{
    const train = document.querySelector(".st-key-{state.TRAIN_BUTTON} button");
    const lost = !document.activeElement || document.activeElement === document.body;
    if (!lost) return;
    if (train && !train.disabled) train.focus();
    else if (--tries > 0) setTimeout(focusTrain, 100);
  }};
  setTimeout(focusTrain, 50);
}})();
</script>"""


def projector() -> bool:
    return bool(st.session_state.get(state.PROJECTOR))


def title(text: str) -> None:
    """The page's one h1 (without Streamlit's anchor link, one Tab stop fewer before Train)."""
    if projector():
        st.html(PROJECTOR_CSS)  # style only: Streamlit puts it out of the page flow
    st.title(text, anchor=False)


def chart(chart: alt.TopLevelMixin | dict, where=st, width: str = "stretch") -> None:
    """Draw a chart at this session's size (laptop or projector); `where` is a column or st."""
    spec = chart if isinstance(chart, dict) else chart.to_dict()
    where.vega_lite_chart(spec=charts.readable(spec, projector()), width=width)


def focus_train() -> None:
    st.html(FOCUS_TRAIN, unsafe_allow_javascript=True)  # fixed text: nothing from outside goes in
