"""More than one server: replicas behind HAProxy with cookie affinity, on this machine's loopback.

`bash deploy/local.sh 2 PORT` brings up two replicas and the proxy, as a teacher would. Every client
here comes from 127.0.0.1, like a class behind one school router: only cookie affinity spreads it.
A client is protocol-level (benchmarks/protocol_student.py): page load, websocket, a checkpoint
upload through /_stcore/upload_file, each answer's replica read from the proxy's header.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import requests

from browser_support import CHROMIUM, free_port, launch_chromium, wait_for_workers
from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
from protocol_student import ProtocolStudent

pytestmark = [
    pytest.mark.slow,
    pytest.mark.alone,
    pytest.mark.skipif(
        shutil.which("haproxy") is None and not os.environ.get("CI"),
        reason="HAProxy is not installed (scripts/test.sh installs it from Debian)",
    ),
]

COOKIE = "rnnlab_replica"
REPLICA = "X-RNN-Lab-Replica"  # the proxy says which replica answered
LOCAL_ENV = {"RNN_LAB_BIND": "127.0.0.1", "RNN_LAB_WORKERS": "1"}  # local.sh on loopback, a worker each


def free_ports(count: int) -> int:
    """A port such that it and the `count - 1` ports after it are free on loopback."""
    while True:
        first, sockets = free_port(), []
        try:
            for port in range(first, first + count):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()


class Replicas:
    """deploy/local.sh running in its own process group: the proxy's URL and each replica's pid."""

    def __init__(self, count: int, log: Path):
        self.port = free_ports(count + 1)  # the proxy's, then one per replica
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log.open("w")
        self.process = subprocess.Popen(
            ["bash", "deploy/local.sh", str(count), str(self.port)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=self.log, text=True, start_new_session=True,
            env={**os.environ, **LOCAL_ENV},
        )  # fmt: skip
        self.pids: dict[str, int] = {}
        self.killed: set[str] = set()  # replicas a test has killed
        for line in self.process.stdout:
            if found := re.match(r"replica (\w+): .* \(pid (\d+)", line):
                self.pids[found[1]] = int(found[2])
            if line.startswith("proxy:"):
                break
        else:
            raise RuntimeError(f"deploy/local.sh stopped before its proxy was ready; see {log}")
        # local.sh says "proxy:" once every replica answers through the proxy, not seconds before
        assert self.all_healthy(), "a replica was out of the proxy's rotation when local.sh said it was ready"
        asyncio.run(self.warm_up())
        self.wait_healthy()

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + 120
        while not self.all_healthy():
            assert time.monotonic() < deadline and self.process.poll() is None, "replicas did not start"
            time.sleep(0.5)

    async def warm_up(self) -> None:
        """Run the page once on every replica, side by side, and wait for their training workers.
        A replica's first page imports PyTorch and starts its training pool, whose forkserver
        imports PyTorch too; for those seconds it may miss the proxy's health checks, and the proxy
        then sends every new student to the other one (20 students split 13 to 7 once)."""

        async def visit(name: str) -> None:
            client = Client(self.url)
            client.http.cookies.set(COOKIE, name)  # the affinity cookie: that replica
            assert client.load_page() == name
            assert await client.open_websocket() == name
            await client.close()

        await asyncio.gather(*(visit(name) for name in self.pids))
        for pid in self.pids.values():
            wait_for_workers(pid, 1)  # RNN_LAB_WORKERS=1

    def all_healthy(self) -> bool:
        """Every replica answers /_stcore/health through the proxy (its health checks passed)."""
        seen = set()
        for _ in range(4 * len(self.pids)):
            try:
                answer = requests.get(f"{self.url}/_stcore/health", timeout=2)
            except requests.RequestException:  # refused, or a replica still starting took too long
                return False
            if answer.text == "ok":
                seen.add(answer.headers.get(REPLICA))
        return seen == set(self.pids)

    def kill(self, name: str) -> None:
        os.kill(self.pids[name], signal.SIGKILL)
        self.killed.add(name)

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)
        self.log.close()


@pytest.fixture(scope="module")
def replica_pair(tmp_path_factory):
    """Two replicas and the proxy for the module, started again if a test killed one of them."""
    current: Replicas | None = None

    def running() -> Replicas:
        nonlocal current
        if current is None or current.killed:
            if current is not None:
                current.stop()
            current = Replicas(2, tmp_path_factory.mktemp("replicas") / "local.log")
        return current

    yield running
    if current is not None:
        current.stop()


@pytest.fixture
def replicas(replica_pair):
    """Two live replicas behind the proxy: the module's, unless a test before killed one. In the
    file's order the test that kills one comes last, so they start once; in any other order (`-k`,
    a reordering plugin) a test after it gets a new pair, not a proxy with one replica left."""
    return replica_pair()


class Client:
    """One student's browser through the proxy: the page's HTTP requests with their cookies, and its
    websocket as a protocol-level student (benchmarks/protocol_student.py)."""

    def __init__(self, url: str):
        self.url, self.http = url, requests.Session()
        self.session_id = ""
        self.texts: list[str] = []  # what the student was told, over every connection
        self.student: ProtocolStudent | None = None

    def load_page(self) -> str:
        """The page, then its health check as the frontend makes it (which sets the XSRF cookie)."""
        page = self.http.get(self.url + "/", timeout=10)
        health = self.http.get(self.url + "/_stcore/health", timeout=10)
        assert page.status_code == 200 and health.text == "ok"
        assert health.headers[REPLICA] == page.headers[REPLICA]
        return page.headers[REPLICA]

    async def open_websocket(self, reconnect: bool = False) -> str:
        """Open the websocket with the page's cookies and run the page's script once; its replica.

        `reconnect`: as the frontend does after a dropped connection, name the session it had."""
        self.student = ProtocolStudent(
            self.url,
            cookie="; ".join(f"{k}={v}" for k, v in self.http.cookies.items()),
            xsrf=self.http.cookies["_streamlit_xsrf"],
            old_session=self.session_id if reconnect else "",
            texts=self.texts,
            follow_timers=False,  # a page's timers play no part in where its requests go
        )
        await self.student.connect()
        await self.rerun()
        return self.student.answer_headers[REPLICA]

    async def rerun(self) -> None:
        await self.student.load()
        self.session_id = self.student.session_id

    async def close(self) -> None:
        await self.student.close()

    def upload(self, content: bytes) -> tuple[int, str]:
        """A checkpoint upload as the file uploader sends it: into this session, on its replica."""
        answer = self.http.put(
            f"{self.url}/_stcore/upload_file/{self.session_id}/checkpoint-1",
            files={"file": ("lab.safetensors", content, "application/octet-stream")},
            headers={"X-Xsrftoken": self.http.cookies["_streamlit_xsrf"]},
            timeout=30,
        )
        return answer.status_code, answer.headers.get(REPLICA, "")


def checkpoint_bytes() -> bytes:
    from rnn_core import TrainConfig, checkpoint, fit

    return checkpoint.to_bytes(fit(TrainConfig(epochs=1, num_samples=200)))


def test_twenty_students_from_one_address_spread_over_both_replicas_and_each_stays_on_its_own(replicas):
    content = checkpoint_bytes()

    async def student() -> tuple[str, list[str], int]:
        client = Client(replicas.url)
        first = client.load_page()
        assert client.http.cookies[COOKIE] == first  # the proxy's affinity cookie names the replica
        served = [first, await client.open_websocket()]
        status, upload_replica = client.upload(content)
        await client.close()
        return first, [*served, upload_replica], status

    async def class_of(count: int):
        return await asyncio.gather(*(student() for _ in range(count)))

    results = asyncio.run(class_of(20))
    spread = Counter(first for first, _, _ in results)
    assert set(spread) == set(replicas.pids) and min(spread.values()) >= 8, spread  # roughly even
    for first, served, status in results:
        assert served == [first] * 3  # page, websocket and upload all on the same replica
        assert status == 204  # 20 of 20 uploads: none lands on a replica that does not know the session


def test_a_browser_back_from_a_session_this_server_does_not_know_is_told_once(replicas):
    """What the frontend does when its server stopped: reconnect and name its old session."""

    async def visit(old_session: str) -> list[str]:
        client = Client(replicas.url)
        client.load_page()
        client.session_id = old_session
        await client.open_websocket(reconnect=bool(old_session))
        await client.rerun()  # said once, not on every redraw
        await client.close()
        return [text for text in client.texts if "server you were on" in text]

    moved = asyncio.run(visit("a-session-on-a-replica-that-stopped"))
    assert len(moved) == 1 and "gone" in moved[0]
    assert asyncio.run(visit("")) == []  # a first visit says nothing


@pytest.mark.browser
@pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("CI"),
    reason="Debian's chromium is not installed (scripts/test.sh installs it)",
)
def test_killing_a_replica_moves_its_students_and_leaves_the_other_ones_alone(replicas):
    """The module's replicas, one of them killed: the last test in the file, so that no test after
    it has to bring up two more replicas and a proxy (BENCHMARKS.md; the `replicas` fixture would)."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        page = chromium.new_page()
        page.goto(replicas.url + "/?epochs=3")
        expect(page.get_by_role("heading", name="Train", level=1)).to_be_visible(timeout=60_000)
        doomed = next(c["value"] for c in page.context.cookies() if c["name"] == COOKIE)
        alive = next(name for name in replicas.pids if name != doomed)

        async def before() -> list[Client]:
            students = []
            while len(students) < 6:
                client = Client(replicas.url)
                client.load_page()
                await client.open_websocket()
                students.append(client)
            return students

        loop = asyncio.new_event_loop()  # the students' own thread: playwright runs a loop in this one
        threading.Thread(target=loop.run_forever, daemon=True).start()
        students = asyncio.run_coroutine_threadsafe(before(), loop).result()
        on = {client: client.http.cookies[COOKIE] for client in students}
        replicas.kill(doomed)
        # the browser reconnects through the proxy to the live replica (its health check there
        # moves the cookie); the student's next click runs the page there, which says so, once
        deadline = time.monotonic() + 60
        while next(c["value"] for c in page.context.cookies() if c["name"] == COOKIE) != alive:
            assert time.monotonic() < deadline, "the page did not reconnect to the live replica"
            page.wait_for_timeout(500)
        expect(page.locator("[data-testid='stApp'][data-test-connection-state='CONNECTED']")).to_have_count(1)
        page.get_by_role("link", name="Try it").click()
        expect(page.get_by_text("The server you were on has stopped")).to_be_visible(timeout=60_000)
        page.get_by_role("link", name="Train").click()
        expect(page.get_by_role("heading", name="Train", level=1)).to_be_visible(timeout=60_000)
        expect(page.get_by_text("The server you were on has stopped")).to_have_count(0)

        async def after() -> tuple[list[str], list[str]]:
            for client in students:
                if on[client] == alive:
                    await client.rerun()  # its session carries on as before
                else:  # the frontend's reconnect: health check, then the websocket
                    client.load_page()
                    assert await client.open_websocket(reconnect=True) == alive
            newcomers = [Client(replicas.url).load_page() for _ in range(6)]
            for client in students:  # closed before their loop stops: no keepalive task left pending
                await client.close()
            return newcomers, [t for c in students if on[c] == alive for t in c.texts]

        newcomers, said_to_survivors = asyncio.run_coroutine_threadsafe(after(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        assert newcomers == [alive] * 6
        assert not [t for t in said_to_survivors if "server you were on" in t]
        moved = [c for c in students if on[c] == doomed]
        assert all(sum("server you were on" in t for t in c.texts) == 1 for c in moved)
        chromium.close()


def test_local_sh_stops_with_the_replicas_own_words_when_a_replica_cannot_start():
    """A teacher whose replica cannot start (here its port is taken) hears why at once, in the
    replica's own words, and no proxy starts to send students to a replica that is not there."""
    port = free_ports(3)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port + 1))
        taken.listen()
        ended = subprocess.run(
            ["bash", "deploy/local.sh", "2", str(port)],
            cwd=ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, **LOCAL_ENV},
        )  # fmt: skip
    assert ended.returncode == 1
    assert "replica app1 did not start" in ended.stderr
    assert f"Port {port + 1} is not available" in ended.stderr  # Streamlit's own words, from its log
    assert "proxy:" not in ended.stdout


if __name__ == "__main__":  # python tests/test_replicas.py
    sys.exit(pytest.main([__file__, "-x", "-q"]))
