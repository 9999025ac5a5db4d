"""The forkserver: the clean process every training worker is forked from (dashboard.workers).

A server starts it first thing (app.py), before it imports PyTorch itself. The forkserver then
imports PyTorch and warms it up (dashboard.forkserver_preload) on one core while the server does its
own imports on the other, so a fresh server's first run waits for the slower of the two, not for
both one after the other. This module imports nothing heavy: starting it costs the server a few
milliseconds, and does nothing once it runs.
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
import types
from multiprocessing import forkserver

PRELOAD = "dashboard.forkserver_preload"

_start_lock = threading.Lock()


def context() -> multiprocessing.context.BaseContext:
    """The process context every worker is made from: a forkserver with PyTorch preloaded."""
    forking = multiprocessing.get_context("forkserver")
    forking.set_forkserver_preload([PRELOAD])
    return forking


def start() -> None:
    """Start the forkserver unless it runs; it preloads PyTorch on its own, without waiting."""
    context()
    forkserver.ensure_running()  # it imports the parent's __main__ only if asked to preload it


def start_process(process: multiprocessing.process.BaseProcess) -> None:
    """Start a worker (forked by the forkserver) without letting it re-run the app's script.

    multiprocessing tells a new process to import the parent's `__main__`, and during a
    Streamlit script run `__main__` is the page script itself (Streamlit installs it there). A
    worker needs nothing from it, so `__main__` is a blank module while the process starts.
    """
    with _start_lock:
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            process.start()
        finally:
            sys.modules["__main__"] = main
