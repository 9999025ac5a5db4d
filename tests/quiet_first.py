"""The tests marked `quiet` first, and a file created when they are over: for scripts/test.sh.

The script runs the tests marked `alone` in one pytest process, one at a time, those also marked
`quiet` (replicas behind HAProxy) first with the machine to themselves. It starts the quick tests
beside the others once the file it names in RNN_LAB_QUIET_DONE exists: one collection fewer than a
pytest process of their own. conftest.py takes these hooks in.
"""

import os
from pathlib import Path

import pytest

QUIET_DONE = "RNN_LAB_QUIET_DONE"


def quiet(item: pytest.Item | None) -> bool:
    return item is not None and item.get_closest_marker("quiet") is not None


def quiet_tests_over() -> None:
    if done := os.environ.get(QUIET_DONE):
        Path(done).touch()


@pytest.hookimpl(trylast=True)  # after `-m` and `-k` have left out what was not asked for
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: not quiet(item))  # stable: each file's own order is kept
    if not any(quiet(item) for item in items):
        quiet_tests_over()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    try:
        return (yield)  # the last quiet test's teardown ends its module's fixtures (the replicas) too
    finally:
        if quiet(item) and not quiet(nextitem):
            quiet_tests_over()
