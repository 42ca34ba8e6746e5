# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""Helpers for test_nvmecontrol.py: running nvmecontrol, an nvmf-hostd per test
in its own run directory, a fake nvmf-hostd that records what nvmecontrol hands
over, targets that never answer, and a look at the TCP connections a target
still has.

Import explicitly: from ctl_helpers import ...
"""

import array
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(REPO, "build", "bin")
CTL = os.environ.get("NVMECONTROL", os.path.join(BIN, "nvmecontrol"))
HOSTD = os.environ.get("NVMF_HOSTD", os.path.join(BIN, "nvmf-hostd"))
CRASH_SIGNALS = {signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGFPE,
                 signal.SIGILL, signal.SIGTRAP}
SANITIZER_MARKERS = ("AddressSanitizer", "runtime error:", "LeakSanitizer", "ThreadSanitizer")


# ------------------------------------------------------------------ nvmecontrol
class Result:
    def __init__(self, args, proc, elapsed):
        self.args = args
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr
        self.elapsed = elapsed

    @property
    def err_lines(self):
        return self.err.splitlines()

    def __repr__(self):
        return "nvmecontrol %s -> rc %s in %.2f s\nstdout:\n%s\nstderr:\n%s" % (
            " ".join(self.args), self.rc, self.elapsed, self.out, self.err)

    def json(self):
        return json.loads(self.out)


def ctl(*args, rundir=None, env=None, timeout=60):
    """Runs nvmecontrol [--rundir DIR] ARGS; never touches /run/nvmf by accident."""
    e = dict(os.environ)
    e["NVMF_RUNDIR"] = "/nonexistent/nvmf-test-rundir"
    if env:
        for k, v in env.items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = v
    argv = [CTL] + (["--rundir", rundir] if rundir else []) + [str(a) for a in args]
    t0 = time.monotonic()
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       env=e, timeout=timeout)
    return Result([str(a) for a in args], p, time.monotonic() - t0)


def assert_one_line_error(r, *fragments, rc=1):
    """Exit status rc, exactly one stderr line "nvmecontrol: ...", naming fragments."""
    assert r.rc == rc, r
    lines = r.err_lines
    assert len(lines) == 1, "expected one line on stderr: %r" % r
    assert lines[0].startswith("nvmecontrol: "), r
    for f in fragments:
        assert f.lower() in lines[0].lower(), "%r does not name %r" % (lines[0], f)
    return lines[0]


def assert_usage_error(r):
    """Exit status 2: the cause on one line, then the usage line."""
    assert r.rc == 2, r
    lines = r.err_lines
    assert 1 <= len(lines) <= 5, r
    assert lines[0].startswith("nvmecontrol: "), r
    assert any(line.startswith("usage: nvmecontrol") for line in lines), r


# ------------------------------------------------------------------ run dirs
def short_tempdir(tag):
    """A directory with a short path: UNIX socket paths are limited to 107 bytes."""
    return tempfile.mkdtemp(prefix="nvmf-%s-" % tag, dir="/tmp")


# ---------------------------------------------------------------- nvmf-hostd
class Hostd:
    """One nvmf-hostd -d --rundir DIR [args], log captured."""

    def __init__(self, rundir, args=()):
        self.rundir = rundir
        self.sock = os.path.join(rundir, "nvmf.sock")
        self.log_path = rundir + ".log"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen([HOSTD, "-d", "--rundir", rundir] + list(args),
                                         stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while not self._answers():
            if self.proc.poll() is not None:
                raise AssertionError("nvmf-hostd exited at start-up (%s):\n%s" %
                                     (self.proc.returncode, self.log()))
            if time.monotonic() > deadline:
                raise AssertionError("nvmf-hostd never opened %s:\n%s" % (self.sock,
                                                                           self.log()))
            time.sleep(0.02)

    def _answers(self):
        if not os.path.exists(self.sock):
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
                s.settimeout(2)
                s.connect(self.sock)
                s.send(b'{"op":"list"}')
                return b'"ok"' in s.recv(1 << 20)
        except OSError:
            return False

    def log(self):
        with open(self.log_path, "r", errors="replace") as f:
            return f.read()

    def ctl(self, *args, **kw):
        return ctl(*args, rundir=self.rundir, **kw)

    def controllers(self):
        r = self.ctl("devlist", "-o", "json")
        assert r.rc == 0, r
        return r.json()["controllers"]

    def stop(self):
        """SIGTERM; returns a description of what went wrong, or None."""
        rc = self.proc.poll()
        if rc is not None:
            return "nvmf-hostd died during the test (status %s)" % rc
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return "nvmf-hostd did not exit within 15 s of SIGTERM"
        if rc < 0 and -rc in CRASH_SIGNALS:
            return "nvmf-hostd crashed on shutdown (signal %d)" % -rc
        if rc != 0:
            return "nvmf-hostd exited with status %d on SIGTERM" % rc
        if any(m in self.log() for m in SANITIZER_MARKERS):
            return "sanitizer report in the nvmf-hostd log"
        return None


@pytest.fixture
def hostd():
    """An nvmf-hostd in a private run directory; stopped (and judged) on teardown."""
    if not os.access(HOSTD, os.X_OK):
        pytest.skip("%s is not built" % HOSTD)
    rundir = short_tempdir("ctl")
    h = Hostd(rundir)
    yield h
    verdict = h.stop()
    log = h.log()
    shutil.rmtree(rundir, ignore_errors=True)
    try:
        os.unlink(h.log_path)
    except OSError:
        pass
    if verdict:
        pytest.fail("%s\n--- nvmf-hostd log ---\n%s" % (verdict, log[-4000:]), pytrace=False)


@pytest.fixture
def rundir():
    """An empty run directory: no nvmf-hostd there."""
    d = short_tempdir("none")
    yield d
    shutil.rmtree(d, ignore_errors=True)


# ----------------------------------------------------------- fake nvmf-hostd
class FakeHostd:
    """Listens on DIR/nvmf.sock like nvmf-hostd and records every request.

    reply(req) decides the answer; by default "list" returns no controllers
    and "handoff" is refused. File descriptors that arrive are kept in
    self.fds (one list per request) until close() so a test can inspect them.
    """

    def __init__(self, rundir, reply=None):
        self.rundir = rundir
        self.path = os.path.join(rundir, "nvmf.sock")
        self.requests = []
        self.fds = []
        self.reply = reply or self.default_reply
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.srv.bind(self.path)
        self.srv.listen(8)
        self.srv.settimeout(0.2)
        self.stopping = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @staticmethod
    def default_reply(req):
        if req.get("op") == "list":
            return {"ok": True, "controllers": []}
        return {"ok": False, "code": "failed", "error": "fake hostd refuses %s" % req.get("op")}

    def _serve(self):
        while not self.stopping:
            try:
                conn, _ = self.srv.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                while True:
                    try:
                        msg, anc, _, _ = conn.recvmsg(1 << 20, socket.CMSG_SPACE(4 * 80))
                    except OSError:
                        break
                    if not msg:
                        break
                    fds = []
                    for level, typ, data in anc:
                        if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                            a = array.array("i")
                            a.frombytes(data[:len(data) - len(data) % a.itemsize])
                            fds.extend(a)
                    req = json.loads(msg.decode())
                    self.requests.append(req)
                    self.fds.append(fds)
                    answer = self.reply(req)
                    if answer is None:
                        continue            # never answers
                    conn.send(json.dumps(answer).encode())

    def handoffs(self):
        return [(r, f) for r, f in zip(self.requests, self.fds) if r.get("op") == "handoff"]

    def close_fds(self):
        for fds in self.fds:
            for fd in fds:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.fds = [[] for _ in self.fds]

    def close(self):
        self.stopping = True
        self.thread.join(timeout=2)
        self.srv.close()
        self.close_fds()
        assert not self.thread.is_alive(), "the fake nvmf-hostd's thread did not stop"


@pytest.fixture
def fake_hostd():
    """Factory: fake_hostd(reply=None) -> FakeHostd in a private run directory."""
    made = []

    def make(reply=None):
        d = short_tempdir("fake")
        f = FakeHostd(d, reply)
        made.append(f)
        return f

    yield make
    for f in made:
        f.close()
        shutil.rmtree(f.rundir, ignore_errors=True)


# ------------------------------------------------------------ silent targets
class SilentListener:
    """A TCP port that completes the handshake (kernel backlog) and never says a word."""

    def __init__(self, addr="127.0.0.1"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((addr, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]

    def close(self):
        self.sock.close()


class BlackholeListener:
    """A TCP port whose accept queue is full: new SYNs are dropped, dials hang."""

    def __init__(self, addr="127.0.0.1"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((addr, 0))
        self.sock.listen(0)
        self.port = self.sock.getsockname()[1]
        self.fillers = []
        for _ in range(4):
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            c.setblocking(False)
            try:
                c.connect((addr, self.port))
            except BlockingIOError:
                pass
            self.fillers.append(c)
        time.sleep(0.2)

    def close(self):
        for c in self.fillers:
            c.close()
        self.sock.close()


# --------------------------------------------------------- TCP connections
def established_to(port, side="remote"):
    """Established TCP connections (IPv4 and IPv6) with port as their remote port
    (our side of connections to a target), their local port (the target's side),
    or either ("both")."""
    n = 0
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    loc, rem, state = fields[1], fields[2], fields[3]
                    if state != "01":
                        continue
                    lp = int(loc.rsplit(":", 1)[1], 16)
                    rp = int(rem.rsplit(":", 1)[1], 16)
                    if (side in ("remote", "both") and rp == port) or \
                            (side in ("local", "both") and lp == port):
                        n += 1
        except FileNotFoundError:
            pass
    return n


def wait_until(pred, timeout=5.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            return v
        time.sleep(interval)
