# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""Helpers for test_reconnect.py (issue 4): the whole host stack per test.

A Stack is one private directory under /tmp (UNIX socket paths are short) with
  - nvmfd targets (file-backed namespaces, so what the host wrote can be read
    back from the file), each of which can be killed with SIGKILL and started
    again with the same arguments (same file, same port), on 127.0.0.1 or in a
    network namespace;
  - nvmf-hostd -d --rundir DIR (optionally under valgrind);
  - nvmf-devd -d --rundir DIR -f etc/nvmf.conf (the shipped rules, unchanged);
  - an EventReader on DIR/devd.pipe that records every event line with a
    time.monotonic() stamp.
Stack.close() ends every process it started (by pid), even when the test
failed half-way, and returns the problems it found (a crash, a hang on
SIGTERM, an exit status other than 0, a sanitizer or valgrind report).

Import explicitly: from reconnect_helpers import ...
"""

import errno
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import uuid

import pytest

from conftest import EXIT_SCALE, describe_exit  # noqa: E402  (one description of an exit status)

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(REPO, "build", "bin")
NVMFD = os.environ.get("NVMFD", os.path.join(BIN, "nvmfd"))
HOSTD = os.environ.get("NVMF_HOSTD", os.path.join(BIN, "nvmf-hostd"))
DEVD = os.environ.get("NVMF_DEVD", os.path.join(BIN, "nvmf-devd"))
CTL = os.environ.get("NVMECONTROL", os.path.join(BIN, "nvmecontrol"))
RULES = os.path.join(REPO, "etc", "nvmf.conf")
ADDR = "127.0.0.1"
BLOCK = 4096
MIB = 1024 * 1024
CRASH_SIGNALS = {signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGFPE,
                 signal.SIGILL, signal.SIGTRAP}
SANITIZER_MARKERS = ("AddressSanitizer", "runtime error:", "LeakSanitizer",
                     "ThreadSanitizer")

EXIT_OK, EXIT_ERROR, EXIT_CONNECTED, EXIT_BUSY = 0, 1, 3, 4


def event_line(etype, name="nvme0"):
    """An event exactly as FreeBSD's nvmf sends it (and nvmf-devd re-broadcasts it)."""
    return '!system=nvme subsystem=controller type=%s name="%s"' % (etype, name)


def new_nqn(tag="rc"):
    return "nqn.2024-01.io.nvmf.e2e:%s-%s" % (tag, uuid.uuid4().hex[:12])


def free_port(addr=ADDR):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((addr, 0))
        return s.getsockname()[1]


def wait_until(pred, timeout, interval=0.01, what="condition"):
    """Polls pred() until it is truthy; returns its value or raises AssertionError."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError("%s not reached within %.1f s" % (what, timeout))
        time.sleep(interval)


def listening(pid, port):
    """True when the process pid's network namespace has a TCP listener on port."""
    for name in ("tcp", "tcp6"):
        try:
            with open("/proc/%d/net/%s" % (pid, name)) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        return True
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            pass
    return False


def read_text(path):
    try:
        with open(path, "r", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def valgrind_report(text, limit=12000):
    """What matters in a valgrind log: the errors (before HEAP SUMMARY), the records of
    definitely lost blocks, and the summaries; not the possibly-lost thread stacks."""
    lines = [ln for ln in text.splitlines() if not re.match(r"^==\d+== ?$", ln)]
    out, i, in_errors = [], 0, True
    while i < len(lines):
        ln = lines[i]
        if "HEAP SUMMARY" in ln:
            in_errors = False
        if in_errors or "LEAK SUMMARY" in ln or "ERROR SUMMARY" in ln or \
                re.search(r"(lost|suppressed|reachable):", ln):
            out.append(ln)
        elif "definitely lost in loss record" in ln:
            out.append(ln)
            while i + 1 < len(lines) and re.match(r"^==\d+==\s+(at|by) ", lines[i + 1]):
                i += 1
                out.append(lines[i])
        i += 1
    text = "\n".join(out)
    return text if len(text) <= limit else text[:limit] + "\n..."


def mounted(path):
    path = os.path.realpath(path)
    with open("/proc/self/mountinfo") as f:
        for line in f:
            if line.split()[4].encode().decode("unicode_escape") == path:
                return True
    return False


def stop_process(proc, timeout, sig=signal.SIGTERM):
    """Sends sig, waits; SIGKILL when it does not end. Returns (rc, elapsed, hung)."""
    if proc.poll() is not None:
        return proc.returncode, 0.0, False
    t0 = time.monotonic()
    try:
        proc.send_signal(sig)
    except ProcessLookupError:
        pass
    try:
        rc = proc.wait(timeout=timeout)
        return rc, time.monotonic() - t0, False
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return proc.returncode, time.monotonic() - t0, True


def children_of(pid):
    """Direct children of pid (from /proc)."""
    kids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses.
        rest = stat[stat.rfind(")") + 2:].split()
        if len(rest) > 1 and int(rest[1]) == pid:
            kids.append(int(d))
    return kids


# ------------------------------------------------------------------ patterns
def block_pattern(salt, block, gen):
    """4096 bytes that name the run, the block and its generation."""
    return struct.pack("<QQQQ", salt, block, gen, 0x6e766d662d726321) * (BLOCK // 32)


def make_image(path, size, salt, pattern_blocks):
    """A sparse backing file of size bytes whose first pattern_blocks blocks hold
    generation 0 of the pattern."""
    with open(path, "wb") as f:
        f.truncate(size)
        for b in range(pattern_blocks):
            f.write(block_pattern(salt, b, 0))
    return path


def file_block(path, block):
    with open(path, "rb") as f:
        f.seek(block * BLOCK)
        return f.read(BLOCK)


# ------------------------------------------------------------------ nvmecontrol
class Result:
    def __init__(self, argv, rc, out, err, elapsed):
        self.argv, self.rc, self.out, self.err, self.elapsed = argv, rc, out, err, elapsed

    def __repr__(self):
        return "%s -> %s in %.3f s\n--- stdout ---\n%s--- stderr ---\n%s" % (
            " ".join(self.argv), describe_exit(self.rc), self.elapsed, self.out, self.err)


# ------------------------------------------------------------------ targets
class Target:
    """One nvmfd (foreground), killable and restartable with the same arguments."""

    def __init__(self, stack, idx, devices, port, subnqn, opts, addr, netns):
        self.stack = stack
        self.idx = idx
        self.devices = list(devices)
        self.port = port
        self.subnqn = subnqn
        self.opts = list(opts)
        self.addr = addr
        self.netns = netns
        self.proc = None
        self.runs = 0
        self.log_paths = []
        self.killed_at = None
        self.started_at = None
        self.listening_at = None

    @property
    def address(self):
        return "%s:%d" % (self.addr, self.port)

    def argv(self):
        argv = [NVMFD, "-d", "-a", self.addr, "-p", str(self.port), "-P", "0",
                "-n", self.subnqn] + self.opts + self.devices
        if self.netns:
            argv = ["ip", "netns", "exec", self.netns] + argv
        return argv

    def start(self, timeout=10):
        """Starts nvmfd; returns when it listens. Sets started_at and listening_at."""
        assert self.proc is None or self.proc.poll() is not None, "nvmfd still running"
        log = os.path.join(self.stack.dir, "nvmfd-%d-%d.log" % (self.idx, self.runs))
        self.runs += 1
        self.log_paths.append(log)
        with open(log, "wb") as f:
            self.started_at = time.monotonic()
            # ip netns exec execs nvmfd: the pid is nvmfd's either way.
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=f,
                                         stderr=subprocess.STDOUT, cwd=self.stack.dir)
        deadline = time.monotonic() + timeout
        while not listening(self.proc.pid, self.port):
            if self.proc.poll() is not None:
                raise AssertionError("nvmfd %s exited at start-up (%s):\n%s" % (
                    " ".join(self.argv()), describe_exit(self.proc.returncode),
                    read_text(log)[-3000:]))
            if time.monotonic() > deadline:
                raise AssertionError("nvmfd never listened on %s:\n%s" % (
                    self.address, read_text(log)[-3000:]))
            time.sleep(0.002)
        self.listening_at = time.monotonic()
        return self

    def kill(self):
        """SIGKILL; returns the monotonic time of the kill."""
        self.killed_at = time.monotonic()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        return self.killed_at

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        return "".join("--- %s ---\n%s" % (os.path.basename(p), read_text(p)[-2000:])
                       for p in self.log_paths)

    def stop(self):
        """SIGTERM; a description of what went wrong, or None."""
        if self.proc is None or self.proc.poll() is not None:
            return None     # killed on purpose (or never started)
        rc, _, hung = stop_process(self.proc, 10)
        if hung:
            return "nvmfd %s did not exit within 10 s of SIGTERM" % self.address
        if rc < 0 and -rc in CRASH_SIGNALS:
            return "nvmfd %s crashed on shutdown (%s)" % (self.address, describe_exit(rc))
        return None


# ------------------------------------------------------------------ events
class EventReader:
    """Reads DIR/devd.pipe in a thread; every line with its time.monotonic() stamp."""

    def __init__(self, path, timeout=10):
        self.path = path
        self.lines = []         # [(t, line)]
        self.cond = threading.Condition()
        self.closed = False
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock.connect(path)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("cannot connect to %s" % path)
                time.sleep(0.01)
        self.sock.settimeout(0.2)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        buf = b""
        while not self.closed:
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            now = time.monotonic()
            if not chunk:
                break
            buf += chunk
            with self.cond:
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    self.lines.append((now, line.decode(errors="replace")))
                self.cond.notify_all()
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def snapshot(self):
        with self.cond:
            return list(self.lines)

    def count(self):
        with self.cond:
            return len(self.lines)

    def of_type(self, etype, name="nvme0", since=None):
        """[(t, line)] of the events of that type for name, at or after since."""
        want = event_line(etype, name)
        return [(t, ln) for t, ln in self.snapshot()
                if ln == want and (since is None or t >= since)]

    def wait_for(self, etype, name="nvme0", since=None, timeout=5.0, n=1):
        """Waits for the n-th event of that type (at or after since); returns its time."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                got = self.of_type_locked(etype, name, since)
                if len(got) >= n:
                    return got[n - 1][0]
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    raise AssertionError(
                        "no %s event (#%d) for %s within %.1f s; events so far:\n%s" % (
                            etype, n, name, timeout, self.format_locked()))
                self.cond.wait(left)

    def of_type_locked(self, etype, name, since):
        want = event_line(etype, name)
        return [(t, ln) for t, ln in self.lines
                if ln == want and (since is None or t >= since)]

    def format_locked(self, t0=None):
        if not self.lines:
            return "  (none)"
        t0 = self.lines[0][0] if t0 is None else t0
        return "\n".join("  %+8.3f %s" % (t - t0, ln) for t, ln in self.lines[-60:])

    def format(self, t0=None):
        with self.cond:
            return self.format_locked(t0)

    def close(self):
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.thread.join(timeout=2)
        self.sock.close()
        assert not self.thread.is_alive(), "the devd.pipe reader's thread did not stop"


# ------------------------------------------------------------------ the stack
class Stack:
    """nvmfd targets + nvmf-hostd + nvmf-devd + a devd.pipe reader in one private directory."""

    def __init__(self, tag):
        self.dir = tempfile.mkdtemp(prefix="nvmf-rc-%s-" % tag, dir="/tmp")
        self.rundir = os.path.join(self.dir, "run")
        os.makedirs(self.rundir)
        self.dev = os.path.join(self.rundir, "dev")
        self.targets = []
        self.hostd = None
        self.hostd_log = os.path.join(self.dir, "nvmf-hostd.log")
        self.valgrind_log = None
        self.devd = None
        self.devd_log = os.path.join(self.dir, "nvmf-devd.log")
        self.events = None
        self.cleanups = []      # callables run first on close (fds, threads, captures)
        self.late_cleanups = [] # callables run last, once every process has ended
        self.closed = False
        self.hostd_exit = None  # (rc, seconds, hung) of the SIGTERM

    # -------------------------------------------------------------- processes
    def image(self, name="disk.img", size=16 * MIB, pattern_blocks=1024, salt=None):
        """A backing file; returns (path, salt)."""
        salt = random.getrandbits(63) if salt is None else salt
        path = os.path.join(self.dir, name)
        make_image(path, size, salt, pattern_blocks)
        return path, salt

    def target(self, *devices, port=None, subnqn=None, opts=(), addr=ADDR, netns=None,
               start=True):
        t = Target(self, len(self.targets), devices, port or free_port(), subnqn or new_nqn(),
                   opts, addr, netns)
        self.targets.append(t)
        if start:
            t.start()
        return t

    def start_hostd(self, valgrind=False, timeout=10, args=(), preexec_fn=None):
        argv = [HOSTD, "-d", "-v", "--rundir", self.rundir] + [str(a) for a in args]
        if valgrind:
            self.valgrind_log = os.path.join(self.dir, "valgrind.log")
            argv = ["valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite",
                    "--error-exitcode=99", "--log-file=" + self.valgrind_log] + argv
            timeout = max(timeout, 60)
        with open(self.hostd_log, "wb") as f:
            self.hostd = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=f,
                                          stderr=subprocess.STDOUT, preexec_fn=preexec_fn)
        sock = os.path.join(self.rundir, "nvmf.sock")
        deadline = time.monotonic() + timeout
        while not (os.path.exists(sock) and os.path.exists(os.path.join(self.rundir, "devctl"))
                   and mounted(self.dev)):
            if self.hostd.poll() is not None:
                raise AssertionError("nvmf-hostd exited at start-up (%s):\n%s%s" % (
                    describe_exit(self.hostd.returncode), read_text(self.hostd_log),
                    read_text(self.valgrind_log) if valgrind else ""))
            if time.monotonic() > deadline:
                raise AssertionError("nvmf-hostd not ready within %d s:\n%s" % (
                    timeout, read_text(self.hostd_log)))
            time.sleep(0.02)
        return self.hostd

    def start_devd(self, timeout=10):
        """nvmf-devd with the shipped rules; returns once it reads devctl and a reader
        listens on devd.pipe."""
        with open(self.devd_log, "wb") as f:
            self.devd = subprocess.Popen([DEVD, "-d", "--rundir", self.rundir, "-f", RULES],
                                         stdin=subprocess.DEVNULL, stdout=f,
                                         stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while "reading events from" not in read_text(self.devd_log):
            if self.devd.poll() is not None:
                raise AssertionError("nvmf-devd exited at start-up (%s):\n%s" % (
                    describe_exit(self.devd.returncode), read_text(self.devd_log)))
            if time.monotonic() > deadline:
                raise AssertionError("nvmf-devd never read %s/devctl:\n%s" % (
                    self.rundir, read_text(self.devd_log)))
            time.sleep(0.01)
        # nvmf-hostd may accept the reader a little later (slowly under valgrind).
        while "devctl: reader connected" not in read_text(self.hostd_log):
            if time.monotonic() > deadline:
                raise AssertionError("nvmf-hostd never logged devctl's reader:\n%s" %
                                     read_text(self.hostd_log))
            time.sleep(0.01)
        self.events = EventReader(os.path.join(self.rundir, "devd.pipe"))
        return self.devd

    def start(self, valgrind=False):
        self.start_hostd(valgrind=valgrind)
        self.start_devd()
        return self

    def stop_hostd(self, timeout):
        """SIGTERM to nvmf-hostd; (rc, seconds, hung). A test that calls this judges the
        exit itself: close() only reports a sanitizer report in the log then."""
        self.hostd_exit = stop_process(self.hostd, timeout)
        return self.hostd_exit

    # -------------------------------------------------------------- nvmecontrol
    def ctl(self, *args, timeout=30):
        argv = [CTL, "--rundir", self.rundir] + [str(a) for a in args]
        env = dict(os.environ, NVMF_RUNDIR=self.rundir)
        t0 = time.monotonic()
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           env=env, timeout=timeout)
        return Result(argv[3:], p.returncode, p.stdout, p.stderr, time.monotonic() - t0)

    def connect(self, target, *opts, expect_name="nvme0"):
        """nvmecontrol connect [opts] addr:port SubNQN; waits for the namespace file."""
        r = self.ctl("connect", *opts, target.address, target.subnqn, timeout=60)
        assert r.rc == 0, r
        c = self.controller(expect_name)
        assert c is not None and c["state"] == "connected", (r, self.devlist())
        for ns in c["namespaces"]:
            wait_until(lambda: os.path.exists(self.ns_path(ns["name"])), 5,
                       what="%s to appear" % ns["name"])
        return c

    def devlist(self, timeout=10):
        r = self.ctl("devlist", "-o", "json", timeout=timeout)
        assert r.rc == 0, r
        return json.loads(r.out)["controllers"]

    def controller(self, name="nvme0"):
        for c in self.devlist():
            if c["name"] == name:
                return c
        return None

    def ns_path(self, name="nvme0ns1"):
        return os.path.join(self.dev, name)

    # -------------------------------------------------------------- logs, close
    def logs(self):
        parts = ["--- nvmf-hostd log (tail) ---\n" + read_text(self.hostd_log)[-5000:],
                 "--- nvmf-devd log (tail) ---\n" + read_text(self.devd_log)[-3000:]]
        if self.valgrind_log:
            parts.append("--- valgrind ---\n" + valgrind_report(read_text(self.valgrind_log)))
        for t in self.targets:
            parts.append(t.log())
        if self.events is not None:
            parts.append("--- events ---\n" + self.events.format())
        return "\n".join(parts)

    def close(self):
        """Ends everything; returns a list of problems (empty when all ended well)."""
        if self.closed:
            return []
        self.closed = True
        problems = []
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - every clean-up gets its turn
                problems.append("clean-up: %r" % e)
        # devd first (its actions talk to the host), then its actions still running.
        if self.devd is not None:
            kids = children_of(self.devd.pid)
            limit = 5 * EXIT_SCALE
            rc, _, hung = stop_process(self.devd, limit)
            if hung:
                problems.append("nvmf-devd did not exit within %d s of SIGTERM" % limit)
            elif rc != 0:
                problems.append("nvmf-devd ended with %s on SIGTERM" % describe_exit(rc))
            for pid in kids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if self.events is not None:
            self.events.close()
        if self.hostd is not None and self.hostd_exit is None:
            limit = 60 if self.valgrind_log else 15 * EXIT_SCALE
            rc, secs, hung = self.stop_hostd(limit)
            if hung:
                problems.append("nvmf-hostd did not exit within %d s of SIGTERM" % limit)
            elif rc == 99 and self.valgrind_log:
                problems.append("valgrind found errors or definite leaks in nvmf-hostd")
            elif rc != 0:
                problems.append("nvmf-hostd ended with %s on SIGTERM" % describe_exit(rc))
        if self.hostd is not None:
            text = read_text(self.hostd_log)
            if any(m in text for m in SANITIZER_MARKERS):
                problems.append("sanitizer report in the nvmf-hostd log")
        if mounted(self.dev):
            subprocess.run(["umount", "-l", self.dev], stderr=subprocess.DEVNULL)
            problems.append("nvmf-hostd left its FUSE mount %s behind" % self.dev)
        for t in self.targets:
            v = t.stop()
            if v:
                problems.append(v)
        for fn in reversed(self.late_cleanups):
            try:
                fn()
            except Exception as e:  # noqa: BLE001
                problems.append("clean-up: %r" % e)
        if problems:
            problems.append(self.logs())
        if not problems or not os.environ.get("NVMF_KEEP_FAILED"):
            shutil.rmtree(self.dir, ignore_errors=True)
        return problems


# ------------------------------------------------------------------ I/O
class Op:
    """One blocking I/O in a thread: records when it ended and how."""

    def __init__(self, fn, name="op"):
        self.fn = fn
        self.result = None
        self.error = None       # OSError
        self.started = None
        self.ended = None
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self):
        self.started = time.monotonic()
        try:
            self.result = self.fn()
        except OSError as e:
            self.error = e
        self.ended = time.monotonic()

    def start(self):
        self.thread.start()
        wait_until(lambda: self.started is not None, 5, what="thread start")
        return self

    def done(self):
        return self.ended is not None

    def join(self, timeout):
        self.thread.join(timeout)
        return self.done()


def fd_op(path, flags, use, name):
    """An Op that opens path with flags, returns use(fd), and closes it."""
    def fn():
        fd = os.open(path, flags)
        try:
            return use(fd)
        finally:
            os.close(fd)
    return Op(fn, name)


def pread_op(path, off, n):
    """An Op that opens path and reads n bytes at off (the file is direct_io: no cache)."""
    return fd_op(path, os.O_RDONLY, lambda fd: os.pread(fd, n, off), "pread")


def pwrite_op(path, off, data):
    """An Op that opens path and writes data at off (direct I/O: the file is direct_io)."""
    return fd_op(path, os.O_WRONLY, lambda fd: os.pwrite(fd, data, off), "pwrite")


class PatternWriter:
    """Threads that keep writing 4 KiB blocks, each with a pattern naming the block and
    its generation, over blocks [0, nblocks) of path (thread i owns blocks i, i+T, ...).
    Records every write's start and end; stops at the first error."""

    def __init__(self, path, salt, nblocks=1024, threads=4):
        self.path = path
        self.salt = salt
        self.nblocks = nblocks
        self.nthreads = threads
        self.gen = [0] * nblocks            # generation last completed per block
        self.done = []                      # [(start, end)] per completed write
        self.errors = []                    # [(t, block, OSError)]
        self.lock = threading.Lock()
        self.stopping = False
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                        for i in range(threads)]

    def _run(self, i):
        fd = os.open(self.path, os.O_WRONLY)
        try:
            mine = list(range(i, self.nblocks, self.nthreads))
            k = 0
            while not self.stopping:
                b = mine[k % len(mine)]
                k += 1
                g = self.gen[b] + 1
                data = block_pattern(self.salt, b, g)
                t0 = time.monotonic()
                try:
                    n = os.pwrite(fd, data, b * BLOCK)
                except OSError as e:
                    with self.lock:
                        self.errors.append((time.monotonic(), b, e))
                    return
                t1 = time.monotonic()
                if n != BLOCK:
                    with self.lock:
                        self.errors.append((t1, b, OSError(errno.EIO, "short write %d" % n)))
                    return
                self.gen[b] = g
                with self.lock:
                    self.done.append((t0, t1))
        finally:
            os.close(fd)

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def stop(self, timeout=10):
        self.stopping = True
        for t in self.threads:
            t.join(timeout)
        return not any(t.is_alive() for t in self.threads)

    def writes(self):
        with self.lock:
            return list(self.done)

    def verify(self, path=None):
        """Blocks whose content (through path, default the namespace file) is not the
        last generation written: [(block, (salt, block, gen) found)]."""
        bad = []
        fd = os.open(path or self.path, os.O_RDONLY)
        try:
            for b in range(self.nblocks):
                got = os.pread(fd, BLOCK, b * BLOCK)
                if got != block_pattern(self.salt, b, self.gen[b]):
                    bad.append((b, struct.unpack("<QQQ", got[:24]) if len(got) >= 24
                                else got))
        finally:
            os.close(fd)
        return bad


# ------------------------------------------------------------------ fio
def fio_verify_write(path, workdir, offset_mb, size_mb, rate_iops, iodepth=4):
    """Starts fio: random 4 KiB writes over [offset, offset+size) of path at rate_iops,
    crc32c in every block, then a verify pass that stops at the first bad block.
    Returns the Popen; fio_result() reads the outcome."""
    out = os.path.join(workdir, "fio.json")
    cmd = ["fio", "--name=reconnect-verify", "--filename=%s" % path, "--direct=1",
           "--rw=randwrite", "--bs=4k", "--ioengine=libaio", "--iodepth=%d" % iodepth,
           "--offset=%dM" % offset_mb, "--size=%dM" % size_mb,
           "--rate_iops=%d" % rate_iops, "--verify=crc32c", "--do_verify=1",
           "--verify_fatal=1", "--verify_state_save=0", "--output-format=json",
           "--output=%s" % out]
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, cwd=workdir)
    p.json_path = out
    return p


def fio_result(p, timeout):
    """(rc, text, job dict or None) of a finished fio; kills it after timeout."""
    try:
        text = p.communicate(timeout=timeout)[0].decode(errors="replace")
    except subprocess.TimeoutExpired:
        p.kill()
        text = p.communicate()[0].decode(errors="replace")
        return None, text + "\n(fio killed after %.0f s)" % timeout, None
    raw = read_text(p.json_path)
    m = re.search(r"^\{", raw, re.M)
    job = None
    if m:
        try:
            job = json.loads(raw[m.start():])["jobs"][0]
        except (ValueError, KeyError, IndexError):
            job = None
        text += raw[:m.start()]
    else:
        text += raw
    return p.returncode, text, job


# ------------------------------------------------------------------ network namespace
class NetnsTarget:
    """A network namespace joined to this one by a veth pair, link-local addresses
    (169.254.0.0/16 only), names unique to this run. delete() removes all of it."""

    def __init__(self):
        tag = uuid.uuid4().hex[:6]
        self.ns = "nvmfrc-" + tag
        self.host_if = "nvrc%sh" % tag
        self.peer_if = "nvrc%st" % tag
        used = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True,
                              text=True).stdout
        for _ in range(100):
            third = random.randint(1, 254)
            fourth = random.randrange(0, 256, 4)
            net = "169.254.%d.%d" % (third, fourth)
            if "169.254.%d." % third not in used:
                break
        self.host_addr = "169.254.%d.%d" % (third, fourth + 1)
        self.peer_addr = "169.254.%d.%d" % (third, fourth + 2)
        self.net = net
        self.created = []
        try:
            self._ip("netns", "add", self.ns)
            self.created.append("netns")
            self._ip("link", "add", self.host_if, "type", "veth", "peer", "name", self.peer_if)
            self.created.append("veth")
            self._ip("link", "set", self.peer_if, "netns", self.ns)
            self._ip("addr", "add", self.host_addr + "/30", "dev", self.host_if)
            self._ip("link", "set", self.host_if, "up")
            self.exec("ip", "addr", "add", self.peer_addr + "/30", "dev", self.peer_if)
            self.exec("ip", "link", "set", self.peer_if, "up")
            self.exec("ip", "link", "set", "lo", "up")
        except Exception:
            self.delete()
            raise

    @staticmethod
    def _ip(*args):
        p = subprocess.run(["ip"] + list(args), capture_output=True, text=True, timeout=10)
        if p.returncode != 0:
            raise AssertionError("ip %s: %s" % (" ".join(args), p.stderr.strip()))

    def exec(self, *argv, check=True):
        p = subprocess.run(["ip", "netns", "exec", self.ns] + list(argv), capture_output=True,
                           text=True, timeout=10)
        if check and p.returncode != 0:
            raise AssertionError("ip netns exec %s %s: %s" % (self.ns, " ".join(argv),
                                                              p.stderr.strip()))
        return p

    def nft(self, script):
        p = subprocess.run(["ip", "netns", "exec", self.ns, "nft", "-f", "-"], input=script,
                           capture_output=True, text=True, timeout=10)
        if p.returncode != 0:
            raise AssertionError("nft in %s: %s\n%s" % (self.ns, p.stderr.strip(), script))

    def drop_port(self, port, table="nvmfrc"):
        """table inet TABLE in the target's namespace: every TCP segment to or from port
        is dropped (a silent partition: no RST, no ICMP)."""
        self.nft("add table inet %s\n"
                 "add chain inet %s input { type filter hook input priority -10; }\n"
                 "add chain inet %s output { type filter hook output priority -10; }\n"
                 "add rule inet %s input tcp dport %d drop\n"
                 "add rule inet %s input tcp sport %d drop\n"
                 "add rule inet %s output tcp sport %d drop\n"
                 "add rule inet %s output tcp dport %d drop\n" % (
                     table, table, table, table, port, table, port, table, port, table, port))

    def undrop(self, table="nvmfrc"):
        self.nft("delete table inet %s\n" % table)

    def delete(self):
        """Removes the veth pair and the namespace; errors only when something stays."""
        if "veth" in self.created:
            subprocess.run(["ip", "link", "del", self.host_if], capture_output=True)
        if "netns" in self.created:
            subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)
        self.created = []
        left = []
        if os.path.exists("/run/netns/" + self.ns):
            left.append("netns " + self.ns)
        if subprocess.run(["ip", "link", "show", self.host_if],
                          capture_output=True).returncode == 0:
            left.append("link " + self.host_if)
        if left:
            raise AssertionError("left behind: %s" % ", ".join(left))


# ------------------------------------------------------------------ packet capture
class Capture:
    """dumpcap on the loopback for one TCP port; pdus() decodes it with tshark."""

    def __init__(self, workdir, port, iface="lo"):
        self.port = port
        self.path = os.path.join(workdir, "capture.pcapng")
        self.err_path = os.path.join(workdir, "dumpcap.err")
        with open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(["dumpcap", "-q", "-i", iface, "-f",
                                          "tcp port %d" % port, "-w", self.path],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=err)
        deadline = time.monotonic() + 10
        while "Capturing on" not in read_text(self.err_path):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError("dumpcap did not start: %s" % read_text(self.err_path))
            time.sleep(0.01)

    def stop(self):
        if self.proc.poll() is None:
            stop_process(self.proc, 5, signal.SIGINT)

    def pdus(self):
        """Every NVMe/TCP PDU in the capture, in order: dicts with frame, stream, src
        port, type, flags and, for ICReq/ICResp, digest; digest check statuses."""
        fields = ["frame.number", "tcp.stream", "tcp.srcport", "nvme-tcp.type",
                  "nvme-tcp.flags", "nvme-tcp.icreq.digest", "nvme-tcp.icresp.digest",
                  "nvme-tcp.plen", "nvme-tcp.hlen", "nvme-tcp.hdgst.status",
                  "nvme-tcp.ddgst.status", "_ws.expert.severity"]
        argv = ["tshark", "-r", self.path, "-d", "tcp.port==%d,nvme-tcp" % self.port,
                "-o", "nvme-tcp.check_hdgst:TRUE", "-o", "nvme-tcp.check_ddgst:TRUE",
                "-Y", "nvme-tcp", "-T", "fields", "-E", "separator=|", "-E", "occurrence=a",
                "-E", "aggregator=,"]
        for f in fields:
            argv += ["-e", f]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise AssertionError("tshark: %s" % p.stderr.strip())
        out = []
        for line in p.stdout.splitlines():
            v = line.split("|")
            v += [""] * (len(fields) - len(v))
            types = [int(x, 0) for x in v[3].split(",") if x]
            flags = [int(x, 0) for x in v[4].split(",") if x]
            plens = [int(x, 0) for x in v[7].split(",") if x]
            hlens = [int(x, 0) for x in v[8].split(",") if x]
            icreq = [int(x, 0) for x in v[5].split(",") if x]
            icresp = [int(x, 0) for x in v[6].split(",") if x]
            for i, typ in enumerate(types):
                out.append({
                    "frame": int(v[0]), "stream": int(v[1]), "srcport": int(v[2]),
                    "type": typ, "flags": flags[i] if i < len(flags) else None,
                    "plen": plens[i] if i < len(plens) else None,
                    "hlen": hlens[i] if i < len(hlens) else None,
                    "icreq_digest": icreq[0] if typ == 0 and icreq else None,
                    "icresp_digest": icresp[0] if typ == 1 and icresp else None,
                    "hdgst_status": v[9], "ddgst_status": v[10], "expert": v[11],
                })
        return out


# ------------------------------------------------------------------ the fixture
@pytest.fixture
def stack():
    """Factory: stack(tag, start=False) -> a Stack (with start, hostd and devd running).
    Every process it started is ended on teardown; a crash, hang or leak report of a
    daemon fails the test.
    Tests take it with: from reconnect_helpers import stack"""
    for b in (NVMFD, HOSTD, DEVD, CTL):
        if not os.access(b, os.X_OK):
            pytest.fail("%s is not built (run make all)" % b)
    made = []

    def make(tag, start=False):
        s = Stack(tag)
        made.append(s)
        return s.start() if start else s

    yield make
    problems = []
    for s in made:
        problems += s.close()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)
