"""benchmarks/suite_processes.py: the suite's CPU by kind of process; benchmarks/procfs.py, which reads
them from /proc."""

import os
import re
import subprocess
import sys
import time

from conftest import ROOT

sys.path.append(str(ROOT / "benchmarks"))  # as when it runs as a script: it imports suite_cpu beside it
import procfs
import suite_processes

Seen = suite_processes.Seen


def test_each_process_is_named_by_its_command_line_and_a_worker_by_its_parent():
    forkserver = "python -c from multiprocessing.forkserver import main; main(8, 9, ['__main__'])"
    named = {
        "/usr/lib/chromium/chromium --type=renderer --lang=en-US": "Chromium renderer",
        "/usr/lib/chromium/chromium --no-sandbox --headless": "Chromium browser",
        "/proc/self/exe --type=utility --utility-sub-type=network.mojom.NetworkService": "Chromium utility",
        "python -m ipykernel_launcher -f /tmp/kernel.json": "Jupyter kernel (the notebook tests)",
        "python -m streamlit run dashboard/app.py --server.port 4000": "Streamlit server",
        "python -u -c import sys;exec(eval(sys.stdin.readline()))": "pytest-xdist worker (the quick tests)",
        # a test's folder is under pytest-of-root: the command line is still the command line
        "python -m rnn_core predict /tmp/pytest-of-root/pytest-5/test_cli0/run 9 9": (
            "the command line (python -m rnn_core)"
        ),
        "python -m pytest -m alone -k bptt": "pytest (the tests marked alone: pages, classes, replicas)",
        "python -m pytest -m not alone -k bptt": "pytest, the quick tests (beside those marked alone)",
        "python benchmarks/suite_processes.py -- python -m pytest": "this sampler",
        "[kdamond.0]": "the machine's kernel threads",
        "/usr/sbin/sshd -D": "other",
    }
    for command, name in named.items():
        assert suite_processes.kind(Seen(command, 1, 0.0, 1.0), forkservers=set()) == name, command
    assert suite_processes.kind(Seen(forkserver, 7, 0, 3), forkservers={10}) == "forkserver (imports PyTorch)"
    assert suite_processes.kind(Seen(forkserver, 10, 0, 3), forkservers={10}) == "training worker"


def test_the_table_adds_up_what_each_kind_spent_and_sets_it_beside_the_machine():
    seen = {
        (10, 1): Seen("python -c from multiprocessing.forkserver import main", 5, 1.0, 3.5),
        (11, 2): Seen("python -c from multiprocessing.forkserver import main", 10, 0.0, 4.0),
        (12, 3): Seen("python -c from multiprocessing.forkserver import main", 10, 0.0, 2.0),
        (13, 4): Seen("[kworker/0:1]", 2, 7.0, 7.0),  # spent nothing while read: left out
        (14, 5): Seen("node a-tool-nobody-named.js", 1, 0.5, 2.0),
    }
    rows = suite_processes.table(seen, wall=20.0, busy=10.0).splitlines()
    assert re.fullmatch(r"training worker +2 +6\.0 +60\.0% +3\.00", rows[1])
    assert re.fullmatch(r"forkserver \(imports PyTorch\) +1 +2\.5 +25\.0% +2\.50", rows[2])
    assert re.fullmatch(r"other +1 +1\.5 +15\.0% +1\.50", rows[3])
    assert rows[4] == "  other,   1.5 s: node a-tool-nobody-named.js"  # what "other" is
    assert len(rows) == 6 and rows[5] == (
        "20 s of wall time; the processes read spent 10 s of CPU, the machine 10 s (/proc/stat): "
        "100% of it is on the table"
    )


def test_a_process_is_charged_what_it_spent_between_two_readings():
    """Read before and after a child spends 1 s of CPU (it waits for the test at each end), so the
    readings bracket the work however busy the machine is; a command line read too early is mended."""
    spend = (
        "import sys, time\nprint('ready', flush=True); sys.stdin.readline()\n"
        "end = time.process_time() + 1.0\nwhile time.process_time() < end: pass\n"
        "print('done', flush=True); sys.stdin.readline()"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", spend], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout.readline() == "ready\n"
        seen = {}
        suite_processes.read_all(seen)
        child.stdin.write("go\n")
        child.stdin.flush()
        assert child.stdout.readline() == "done\n"
        suite_processes.read_all(seen)
        mine = [p for (pid, _), p in seen.items() if pid == child.pid]
        assert len(mine) == 1 and "process_time" in mine[0].command
        assert 0.95 <= mine[0].last - mine[0].first <= 1.3  # /proc counts whole ticks of 0.01 s
        mine[0].command = "python -u -c import sys;exec(eval(sys.stdin.readline()))"  # read before its exec
        suite_processes.read_all(seen)
        assert "process_time" in mine[0].command  # what it became is what it is named by
    finally:
        child.stdin.close()
        child.wait(timeout=10)


def test_a_command_is_sampled_while_it_runs_and_its_exit_code_kept(tmp_path, monkeypatch):
    """The command ends only once the sampler has read it (the quick tests run at nice 19 beside the
    waiting ones, where a reading 0.2 s away can come seconds late), or after 60 s with another code."""
    seen_it, read_all = tmp_path / "seen", suite_processes.read_all

    def reading(seen):  # the sampler's reading, which tells the command when it has seen it
        read_all(seen)
        if any("seen_it" in p.command for p in seen.values()):
            seen_it.touch()

    monkeypatch.setattr(suite_processes, "read_all", reading)
    wait = (
        f"import os, time; seen_it = {str(seen_it)!r}; end = time.monotonic() + 60\n"
        "while not os.path.exists(seen_it) and time.monotonic() < end: time.sleep(0.05)\n"
        "raise SystemExit(3 if os.path.exists(seen_it) else 4)"
    )
    seen, _, _, code = suite_processes.sample([sys.executable, "-c", wait])
    assert code == 3
    assert sum("seen_it" in p.command for p in seen.values()) == 1


def test_procfs_reads_a_child_whose_name_has_spaces_and_parentheses_its_parent_family_and_cpu():
    # the child names itself as a hostile program could, spends some CPU, then waits for its end
    spend = (
        "import sys; open('/proc/self/comm', 'w').write('a) b (c'); sum(range(10_000_000)); sys.stdin.read()"
    )
    child = subprocess.Popen([sys.executable, "-c", spend], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while procfs.stat(child.pid).name != "a) b (c" or procfs.cpu_seconds([child.pid]) < 0.05:
            assert time.monotonic() < deadline, procfs.stat(child.pid)
            time.sleep(0.05)
        read = procfs.stat(child.pid)
        assert read.parent == os.getpid() and read.start > 0
        assert child.pid in procfs.family(os.getpid()) and child.pid in procfs.pids()
        assert procfs.command_line(child.pid).split(b"\0")[:2] == [sys.executable.encode(), b"-c"]
    finally:
        child.communicate(b"")
    assert procfs.command_line(child.pid) == b"" and procfs.cpu_seconds([child.pid]) == 0  # ended
