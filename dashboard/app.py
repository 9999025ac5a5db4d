"""RNN Lab: `streamlit run dashboard/app.py`.

Streamlit runs this file top to bottom on every click. It sets the page up, draws the sidebar
(the run's settings, shared by every page so they survive a page switch) and hands over to the
page the student picked.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # make rnn_core importable from any cwd

import streamlit as st

from dashboard import forkserver  # imports nothing heavy

forkserver.start()  # first: it imports PyTorch for the workers while this server imports its own

from dashboard import controls, page, session, state  # noqa: E402 - these import PyTorch

controls.restore_from_link()  # first, so that a projector link starts with the sidebar folded away
st.set_page_config(
    page_title="RNN Lab",
    page_icon=":material/neurology:",
    layout="wide",
    initial_sidebar_state="collapsed" if page.projector() else "auto",
)
session.pool()  # once per server process: the shared training pool, its workers starting meanwhile
# Pages live in views/, not pages/: a folder named pages/ beside the entrypoint is also Streamlit's
# old automatic multipage mode, and Streamlit's AppTest then reruns a page without this file.
chosen = st.navigation(
    [
        st.Page("views/train.py", title="Train", icon=":material/model_training:", default=True),
        st.Page("views/try_it.py", title="Try it", icon=":material/keyboard:"),
        st.Page("views/hidden_states.py", title="Hidden states", icon=":material/scatter_plot:"),
        st.Page("views/backprop.py", title="Backprop through time", icon=":material/undo:"),
        st.Page("views/compare.py", title="Compare", icon=":material/compare_arrows:"),
    ],
    position="top" if page.projector() else "sidebar",  # the pages stay in sight with the sidebar folded
)
st.session_state[state.CONFIG] = controls.render_sidebar()
if note := session.moved_note():
    st.warning(note)
page.keep_widget_values(session.runs().run_ids())

chosen.run()
