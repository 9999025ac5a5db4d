"""The RNN Lab dashboard: a Streamlit view over rnn_core's public API (no training math here)."""
