# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""nvmf-devd's two doors: the devctl stream it reads and the devd.pipe it serves.

devctl: nvmf-devd connects to $rundir/devctl, which the test serves itself in
place of nvmf-hostd, so it can send what nvmf-hostd never would: a line with
a NUL byte, a line longer than any event with an event hidden in its tail.
Each is refused whole with one log line, and the event after it still runs
its rule (an action that creates a file named after $name) and still reaches
devd.pipe.

devd.pipe: root's alone (0600), or root's and one group's (--group, 0660);
at most 64 readers, 8 of the places kept for root; a reader beyond the limit
is closed at once with a log line, and the readers already there keep
getting events.
"""

import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest

from conftest import cpu_seconds

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEVD = os.environ.get("NVMF_DEVD", os.path.join(REPO, "build", "bin", "nvmf-devd"))
NOBODY = 65534
MAX_READERS = 64
ROOT_RESERVED = 8

RECONNECT = b'!system=nvme subsystem=controller type=RECONNECT name="%s"'


def event(name):
    return RECONNECT % name.encode()


def wait_until(pred, timeout=5.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for %s" % what)
        time.sleep(0.02)


class Devd:
    """nvmf-devd -d reading a devctl the test serves, with a rule that touches
    fired/$name for each RECONNECT event (after `action`'s own commands, when
    given: %(dir)s in it is the test's directory)."""

    def __init__(self, args=(), action=None, preexec_fn=None):
        self.dir = tempfile.mkdtemp(prefix="nvmf-devd-", dir="/tmp")
        os.chmod(self.dir, 0o755)           # only the sockets' own modes decide
        self.rundir = self.dir
        self.fired = os.path.join(self.dir, "fired")
        os.mkdir(self.fired)
        self.pipe = os.path.join(self.rundir, "devd.pipe")
        self.log_path = os.path.join(self.dir, "devd.log")
        rules = os.path.join(self.dir, "rules.conf")
        with open(rules, "w") as f:
            f.write('notify 10 {\n\tmatch "system" "nvme";\n\tmatch "type" "RECONNECT";\n'
                    '\taction "%stouch %s/$name";\n};\n'
                    % ((action % {"dir": self.dir} + "; ") if action else "", self.fired))
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(os.path.join(self.rundir, "devctl"))
        self.srv.listen(1)
        self.srv.settimeout(10)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen([DEVD, "-d", "--rundir", self.rundir, "-f", rules]
                                         + list(args), stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT,
                                         preexec_fn=preexec_fn)
        try:
            self.conn, _ = self.srv.accept()
        except socket.timeout:
            raise AssertionError("nvmf-devd never connected to devctl:\n" + self.log())
        wait_until(lambda: os.path.exists(self.pipe) and "reading events from" in self.log(),
                   what="nvmf-devd to read devctl")

    def log(self):
        with open(self.log_path, "r", errors="replace") as f:
            return f.read()

    def lines(self, pattern):
        return [ln for ln in self.log().splitlines() if re.search(pattern, ln)]

    def send(self, data):
        self.conn.sendall(data)

    def fired_names(self):
        return sorted(os.listdir(self.fired))

    def wait_actions_done(self, n):
        """Waits until n actions started and all of them exited; returns fired/."""
        wait_until(lambda: len(self.lines(r"action started")) >= n and
                   len(self.lines(r"action exited")) == len(self.lines(r"action started")),
                   what="%d action(s) to run:\n%s" % (n, self.log()))
        return self.fired_names()

    def close(self):
        problems = []
        if self.proc.poll() is not None:
            problems.append("nvmf-devd died during the test (%s)" % self.proc.returncode)
        else:
            self.proc.send_signal(signal.SIGTERM)
            try:
                if self.proc.wait(timeout=5) != 0:
                    problems.append("nvmf-devd exited %s on SIGTERM" % self.proc.returncode)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                problems.append("nvmf-devd did not exit within 5 s of SIGTERM")
        log = self.log()
        self.conn.close()
        self.srv.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        return problems, log


@pytest.fixture
def devd():
    if not os.access(DEVD, os.X_OK):
        pytest.skip("%s is not built" % DEVD)
    made = []

    def start(*args, action=None, preexec_fn=None):
        d = Devd(args, action=action, preexec_fn=preexec_fn)
        made.append(d)
        return d

    yield start
    for d in made:
        problems, log = d.close()
        if problems:
            pytest.fail("%s\n--- nvmf-devd log ---\n%s" % ("; ".join(problems), log[-3000:]),
                        pytrace=False)


def reader(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s


def read_line(s, timeout=5.0):
    """The next line on s, or b"" at EOF."""
    s.settimeout(timeout)
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(4096)
        if not chunk:
            return b""
        buf += chunk
    return buf


def refused_at_once(s):
    """The reader was closed by nvmf-devd without a word."""
    return read_line(s, timeout=5.0) == b""


# ============================================================ devctl framing
def test_line_with_nul_is_refused_and_next_event_runs(devd):
    d = devd()
    r = reader(d.pipe)
    # An event before the NUL byte: read as a C string, it would run.
    d.send(event("nulname") + b"\0junk\n")
    d.send(event("nvme0") + b"\n")
    assert read_line(r) == event("nvme0") + b"\n", d.log()
    assert d.wait_actions_done(1) == ["nvme0"], d.log()
    refusals = d.lines(r"refused a line")
    assert len(refusals) == 1, d.log()
    assert re.search(r"devctl: refused a line of %d bytes holding a NUL byte" %
                     (len(event("nulname")) + 5), refusals[0]), refusals
    r.close()


def test_overlong_line_is_refused_whole_tail_never_an_event(devd):
    d = devd()
    r = reader(d.pipe)
    # Padded so that the smuggled event starts right after the first 8,191 bytes,
    # where a reader with an 8 KiB buffer cuts the line.
    head = b'!system=nvme subsystem=controller type=DISCONNECTED name="nvme1" pad="'
    head += b"A" * (8191 - len(head) - 2) + b'" '
    line = head + event("evil")
    d.send(line + b"\n" + event("nvme0") + b"\n")
    assert read_line(r) == event("nvme0") + b"\n", d.log()
    assert d.wait_actions_done(1) == ["nvme0"], d.log()
    assert "evil" not in d.log()
    refusals = d.lines(r"refused a line")
    assert len(refusals) == 1, d.log()
    assert re.search(r"devctl: refused a line of %d bytes \(longer than 1023\)" % len(line),
                     refusals[0]), refusals
    r.close()


def test_bad_lines_then_event_in_one_write(devd):
    """The issue's sequence in one write: NUL line, over-long line, event."""
    d = devd()
    long_line = b"!system=nvme pad=" + b"B" * 9000 + b" " + event("evil")
    d.send(event("nul") + b"\0\n" + long_line + b"\n" + event("nvme3") + b"\n")
    assert d.wait_actions_done(1) == ["nvme3"], d.log()
    assert len(d.lines(r"refused a line")) == 2, d.log()
    # The stream goes on as before.
    d.send(event("nvme4") + b"\n")
    assert d.wait_actions_done(2) == ["nvme3", "nvme4"], d.log()


# ============================================================ devd.pipe access
AS_USER = r"""
import json, socket, sys
path, count = sys.argv[1], int(sys.argv[2])
socks, errors = [], []
for _ in range(count):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        socks.append(s)
    except OSError as e:
        errors.append(e.errno)
        s.close()
print(json.dumps({"connected": len(socks), "errors": errors}), flush=True)
if socks and sys.stdin.readline():
    got = eof = 0
    for s in socks:
        s.settimeout(5)
        buf = b""
        try:
            while not buf.endswith(b"\n"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                buf += chunk
        except OSError:
            pass
        if buf.endswith(b"\n"):
            got += 1
        elif not buf:
            eof += 1
    print(json.dumps({"events": got, "eof": eof}), flush=True)
"""


class AsUser:
    """A process as uid/gid (no other groups) holding count readers of path."""

    def __init__(self, path, count, uid=NOBODY, gid=NOBODY):
        self.proc = subprocess.Popen([sys.executable, "-c", AS_USER, path, str(count)],
                                     user=uid, group=gid, extra_groups=[], cwd="/",
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.first = json.loads(self.proc.stdout.readline())

    def read_event(self):
        """Lets it read one line from each reader: {"events": n, "eof": m}."""
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        out = json.loads(self.proc.stdout.readline())
        self.proc.wait(timeout=10)
        return out

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def as_user():
    if os.geteuid() != 0:
        pytest.skip("needs root to run readers as other users")
    made = []

    def start(*args, **kw):
        a = AsUser(*args, **kw)
        made.append(a)
        return a

    yield start
    for a in made:
        a.close()


def test_pipe_is_root_only_by_default(devd, as_user):
    d = devd()
    st = os.stat(d.pipe)
    assert oct(st.st_mode & 0o7777) == oct(0o600) and st.st_uid == 0, oct(st.st_mode)
    stranger = as_user(d.pipe, 1)
    assert stranger.first == {"connected": 0, "errors": [13]}, stranger.first   # EACCES
    r = reader(d.pipe)
    d.send(event("nvme0") + b"\n")
    assert read_line(r) == event("nvme0") + b"\n"
    r.close()


def test_pipe_open_to_the_group_given(devd, as_user):
    d = devd("--group", str(NOBODY))
    st = os.stat(d.pipe)
    assert oct(st.st_mode & 0o7777) == oct(0o660) and st.st_gid == NOBODY, oct(st.st_mode)
    member = as_user(d.pipe, 1, gid=NOBODY)
    assert member.first == {"connected": 1, "errors": []}, member.first
    outsider = as_user(d.pipe, 1, gid=NOBODY - 1)
    assert outsider.first == {"connected": 0, "errors": [13]}, outsider.first
    d.send(event("nvme0") + b"\n")
    assert member.read_event() == {"events": 1, "eof": 0}


def assert_bad_values_one_line(option, values, named=True):
    """Each value: exit 2 and one line on stderr naming the option (and the value)."""
    for bad in values:
        p = subprocess.run([DEVD, "-d", "--rundir", "/nonexistent", option, bad],
                           capture_output=True, text=True, timeout=10)
        assert p.returncode == 2, p
        lines = p.stderr.splitlines()
        assert len(lines) == 1 and option in lines[0], p.stderr
        assert not named or bad in lines[0], p.stderr


def test_bad_group_is_one_line(devd):
    assert_bad_values_one_line("--group", ("0x10", "no-such-group-here", "-1", "12abc",
                                           "99999999999999999999"))


def test_actions_beyond_the_limit_wait_and_all_run(devd):
    """With --max-actions 2, six controllers' RECONNECTs at once: two run, four
    wait and start as those end, so every one runs and never more than two at a
    time; the same action raised again while it waits, or while it runs, is not
    started twice."""
    d = devd("--max-actions", "2",
             action="echo start $name >> %(dir)s/order; sleep 0.3; echo end $name >> %(dir)s/order")
    names = ["nvme%d" % i for i in range(6)]
    d.send(b"".join(event(n) + b"\n" for n in names))
    d.send(event("nvme5") + b"\n")        # nvme5 waits behind four others
    wait_until(lambda: len(d.lines(r"action started .*nvme0'")) == 1, what="nvme0's action")
    d.send(event("nvme0") + b"\n")        # nvme0's action is still running (0.3 s)
    assert d.wait_actions_done(6) == names
    assert len(d.lines(r"action started")) == 6, d.log()
    assert len(d.lines(r"nvme5'\" is waiting already: not started twice")) == 1, d.log()
    assert len(d.lines(r"nvme0'\" is running already: not started twice")) == 1, d.log()
    assert len(d.lines(r"actions running: .* waits")) == 4, d.log()
    running, most = 0, 0
    with open(os.path.join(d.dir, "order")) as f:
        for line in f:
            running += 1 if line.startswith("start") else -1
            most = max(most, running)
    assert most == 2, "%d actions ran at once with --max-actions 2" % most


def test_bad_max_actions_is_one_line(devd):
    assert_bad_values_one_line("--max-actions", ("0", "4097", "-1", "2x", ""))


def test_reader_beyond_the_limit_is_refused_not_the_earlier_ones(devd):
    d = devd()
    readers = [reader(d.pipe) for _ in range(MAX_READERS)]
    late = reader(d.pipe)
    assert refused_at_once(late)
    wait_until(lambda: d.lines(r"refused a reader"), what="the refusal's log line")
    [line] = d.lines(r"refused a reader")
    assert re.search(r"devd\.pipe: refused a reader \(pid %d, uid 0\): 64 readers already"
                     % os.getpid(), line), line
    d.send(event("nvme0") + b"\n")
    got = [read_line(r) for r in readers]
    assert got == [event("nvme0") + b"\n"] * MAX_READERS
    # A reader that leaves gives its place to the next.
    readers.pop().close()
    readers.append(reader(d.pipe))
    d.send(event("nvme1") + b"\n")
    assert [read_line(r) for r in readers] == [event("nvme1") + b"\n"] * MAX_READERS
    assert len(d.lines(r"refused a reader")) == 1, d.log()
    for r in readers:
        r.close()


def test_reader_beyond_the_descriptors_is_refused_without_a_spin(devd):
    """With a hard RLIMIT_NOFILE of 16, nvmf-devd runs out of descriptors before its
    reader limit. The next reader is let in on a descriptor kept in reserve and turned
    away with a log line naming the limit; the readers already there keep their places;
    and nvmf-devd does not spin on a listener it cannot accept from (it used to: a reader
    left waiting kept the listener readable, and poll returned at once, at 100 % CPU)."""
    def hard_nofile():
        resource.setrlimit(resource.RLIMIT_NOFILE, (16, 16))
    d = devd(preexec_fn=hard_nofile)
    readers = [reader(d.pipe) for _ in range(20)]
    wait_until(lambda: d.lines(r"refused a reader: out of file descriptors"),
               what="a refusal for want of descriptors:\n%s" % d.log())
    time.sleep(0.3)
    before = cpu_seconds(d.proc.pid)
    time.sleep(1.0)
    spent = cpu_seconds(d.proc.pid) - before
    assert spent < 0.3, "nvmf-devd used %.2f s of CPU in 1 s, out of descriptors" % spent
    line = d.lines(r"refused a reader: out of file descriptors")[0]
    assert re.search(r"devd\.pipe: refused a reader: out of file descriptors \(Too many "
                     r"open files, RLIMIT_NOFILE 16\)", line), line
    d.send(event("nvme0") + b"\n")
    got = [read_line(r) for r in readers]
    kept = got.count(event("nvme0") + b"\n")
    assert kept >= 3 and kept + got.count(b"") == len(readers), got
    assert got.count(b"") == len(d.lines(r"refused a reader: out of file descriptors"))
    for r in readers:
        r.close()

def test_group_cannot_take_the_places_kept_for_root(devd, as_user):
    d = devd("--group", str(NOBODY))
    member = as_user(d.pipe, MAX_READERS)
    assert member.first["connected"] == MAX_READERS, member.first
    others = MAX_READERS - ROOT_RESERVED
    wait_until(lambda: len(d.lines(r"refused a reader")) == ROOT_RESERVED,
               what="%d refusals:\n%s" % (ROOT_RESERVED, d.log()))
    assert all(re.search(r"uid %d\): %d readers already, at most %d for users other than "
                         r"root" % (NOBODY, others, others), ln)
               for ln in d.lines(r"refused a reader")), d.log()
    roots = [reader(d.pipe) for _ in range(ROOT_RESERVED)]
    late = reader(d.pipe)
    assert refused_at_once(late)
    d.send(event("nvme0") + b"\n")
    assert [read_line(r) for r in roots] == [event("nvme0") + b"\n"] * ROOT_RESERVED
    assert member.read_event() == {"events": others, "eof": ROOT_RESERVED}
    for r in roots:
        r.close()
