#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""tests/soak/soak.py - `make soak FAULTS=N`: random, overlapping faults under a verifying
workload, and not one acknowledged write lost.

One private stack (tests/e2e/reconnect_helpers.Stack): nvmf-hostd, nvmf-devd with the shipped
rule, and three nvmfd targets on file-backed namespaces - two on the loopback, one in a network
namespace behind a veth pair - each connected with reconnect-delay 1, ctrl-loss-tmo 60 and
KATO 2, no fast-io-fail: no I/O error is ever allowed. On each namespace file, writer threads
keep writing 4 KiB blocks whose content names the block and its generation (the last
acknowledged generation of every block is tracked), and a reader checks random blocks against
what was acknowledged around its read.

Meanwhile faults are drawn at random (seeded) and started every 0.2-1.5 s, each on a target
that has none under way, so they overlap across targets and with the host-wide ones:
  target-kill    nvmfd SIGKILL, restarted 0.2-2 s later on the same file and port
  target-stop    nvmfd SIGSTOP past KATO (2.5-4 s), then SIGCONT
  blackhole      nftables drops the target's port in its namespace for 2.5-4 s (netns target)
  link-down      the veth link down for 0.5-3 s (netns target)
  reset          nvmecontrol reset nvmeX (refused, and counted apart, while it reconnects)
  devd-restart   nvmf-devd SIGKILL, started again 0.2-2 s later (host-wide)
  hostd-restart  nvmf-hostd SIGKILL, started again (host-wide; --no-hostd-restart leaves it
                 out): it restores its controllers from its state files and the rule
                 reconnects them. I/O issued while it is down fails as FUSE makes it fail
                 (ENOTCONN from the dead mount): such a write was never acknowledged, so the
                 writers reopen the file once it is back and write the same block again, and
                 it counts as "unacknowledged", not as an I/O error
After the last fault every controller must be connected again, every block must read back as
its last acknowledged write through the namespace file and in the backing file itself, and no
I/O may have failed. The report counts faults by kind, I/Os, bytes verified, I/O errors, and the
worst time from a fault's end to a write completing on the controller it hit.

One line per check, "soak: N passed, M failed" last; --json FILE writes the report.
"""

import argparse
import array
import bisect
import collections
import errno
import json
import os
import random
import signal
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))

from reconnect_helpers import (BLOCK, NetnsTarget, PatternWriter, Stack,  # noqa: E402
                               block_pattern, file_block, wait_until)

KATO = 2
NBLOCKS = 256
KINDS_TARGET = ("target-kill", "target-stop", "reset")
KINDS_NETNS = ("blackhole", "link-down")
KINDS_HOST = ("devd-restart",)


def reopen(soak, path, flags, deadline_s=120):
    """(fd, epoch): path opened again once nvmf-hostd is back and the file is there."""
    deadline = time.monotonic() + deadline_s
    while True:
        epoch = soak.hostd_epoch
        try:
            return os.open(path, flags), epoch
        except OSError as e:
            if time.monotonic() > deadline:
                raise OSError(e.errno, "%s not back within %d s: %s" % (path, deadline_s,
                                                                         e.strerror))
        time.sleep(0.05)


def close_quietly(fd):
    try:
        os.close(fd)
    except OSError:
        pass        # a file of the dead mount: its flush fails too


class RestartTolerantWriter(PatternWriter):
    """PatternWriter that rides out nvmf-hostd restarts: a write that fails because hostd
    died (its outcome unknown, never acknowledged) is written again, same block and
    generation, through the file opened anew once it is back. Any other error stops the
    thread, as PatternWriter does."""

    def __init__(self, soak, *args, **kwargs):
        self.soak = soak
        self.unacknowledged = 0
        # Completion times only, 8 bytes each: a 1,000-fault run makes millions of writes.
        self.ends = array.array("d")
        super().__init__(*args, **kwargs)

    def count(self):
        return len(self.ends)

    def last_end(self):
        with self.lock:
            return self.ends[-1] if self.ends else 0.0

    def _run(self, i):
        mine = list(range(i, self.nblocks, self.nthreads))
        k = 0
        pending = None
        fd, epoch = reopen(self.soak, self.path, os.O_WRONLY)
        try:
            # A write whose outcome is unknown is finished even when stopping: the
            # verdict checks every block against its last acknowledged generation.
            while pending is not None or not self.stopping:
                if pending is None:
                    b = mine[k % len(mine)]
                    k += 1
                    g = self.gen[b] + 1
                    pending = (b, g, block_pattern(self.salt, b, g))
                b, g, data = pending
                t0 = time.monotonic()
                try:
                    n = os.pwrite(fd, data, b * BLOCK)
                except OSError as e:
                    if not self.soak.hostd_restarted_since(epoch):
                        with self.lock:
                            self.errors.append((time.monotonic(), b, e))
                        return
                    with self.lock:
                        self.unacknowledged += 1
                    close_quietly(fd)
                    fd = -1
                    try:
                        fd, epoch = reopen(self.soak, self.path, os.O_WRONLY)
                    except OSError as e2:
                        with self.lock:
                            self.errors.append((time.monotonic(), b, e2))
                        return
                    continue
                t1 = time.monotonic()
                if n != BLOCK:
                    with self.lock:
                        self.errors.append((t1, b, OSError(errno.EIO, "short write %d" % n)))
                    return
                self.gen[b] = g
                pending = None
                with self.lock:
                    self.ends.append(t1)
        finally:
            if fd >= 0:
                close_quietly(fd)


class Reader:
    """Reads random blocks of one namespace file and checks each against the writer's
    acknowledged generations: between what was acknowledged before the read and one past
    what was acknowledged after it (a write in flight may or may not have landed)."""

    def __init__(self, writer):
        self.w = writer
        self.reads = 0
        self.bad = []
        self.errors = []
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        rng = random.Random()
        soak = self.w.soak
        fd, epoch = reopen(soak, self.w.path, os.O_RDONLY)
        try:
            while not self.stopping:
                b = rng.randrange(self.w.nblocks)
                before = self.w.gen[b]
                try:
                    got = os.pread(fd, BLOCK, b * BLOCK)
                except OSError as e:
                    if not soak.hostd_restarted_since(epoch):
                        self.errors.append((time.monotonic(), b, e))
                        return
                    # nvmf-hostd died under the read: read again once it is back.
                    close_quietly(fd)
                    fd = -1
                    try:
                        fd, epoch = reopen(soak, self.w.path, os.O_RDONLY)
                    except OSError as e2:
                        self.errors.append((time.monotonic(), b, e2))
                        return
                    continue
                after = self.w.gen[b]
                salt, blk, gen, _ = struct.unpack("<QQQQ", got[:32])
                if (salt != self.w.salt or blk != b or not before <= gen <= after + 1 or
                        got != block_pattern(self.w.salt, b, gen)):
                    self.bad.append((b, before, after, (salt, blk, gen)))
                self.reads += 1
                time.sleep(0.002)
        finally:
            if fd >= 0:
                close_quietly(fd)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.stopping = True
        self.thread.join(15)


class Soak:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.stack = Stack("soak")
        self.net = None
        self.lock = threading.Lock()
        self.busy = set()           # targets with a fault under way
        self.host_busy = False      # a host-wide fault under way
        self.faults = collections.Counter()
        self.fault_log = []         # (kind, target index, start, end)
        self.failures = []          # a fault that could not be made or undone
        self.threads = []
        self.ctrls = []             # (target, controller name, namespace path, writer, reader)
        self.hostd_epoch = 0        # nvmf-hostd kills so far
        self.hostd_down = False     # killed and not ready again

    def hostd_restarted_since(self, epoch):
        """Whether nvmf-hostd was killed since a file was opened at epoch (so an error on
        it may be the dead mount's, and the I/O's outcome unknown)."""
        return self.hostd_down or self.hostd_epoch != epoch

    # ------------------------------------------------------------------ set-up
    def setup(self):
        s = self.stack
        s.start()
        self.net = NetnsTarget()
        s.late_cleanups.append(self.net.delete)
        for i in range(3):
            path, salt = s.image("disk%d.img" % i, size=8 * 1024 * 1024,
                                 pattern_blocks=NBLOCKS)
            if i == 2:
                t = s.target(path, addr=self.net.peer_addr, netns=self.net.ns)
            else:
                t = s.target(path)
            c = s.connect(t, "-r", 1, "-l", 60, "-k", KATO, expect_name="nvme%d" % i)
            ns = s.ns_path(c["namespaces"][0]["name"])
            w = RestartTolerantWriter(self, ns, salt, nblocks=NBLOCKS, threads=2)
            t.image = path
            self.ctrls.append((t, c["name"], ns, w, Reader(w)))
        for (_, _, _, w, r) in self.ctrls:
            w.start()
            r.start()

    # ------------------------------------------------------------------ faults
    def _run_fault(self, kind, idx, fn):
        t0 = time.monotonic()
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - a fault that failed is a finding
            self.failures.append("%s on target %s: %r" % (kind, idx, e))
        t1 = time.monotonic()
        with self.lock:
            self.fault_log.append((kind, idx, t0, t1))
            if idx is None:
                self.host_busy = False
            else:
                self.busy.discard(idx)

    def target_kill(self, t):
        t.kill()
        time.sleep(self.rng.uniform(0.2, 2.0))
        t.start()

    def target_stop(self, t):
        t.proc.send_signal(signal.SIGSTOP)
        try:
            time.sleep(self.rng.uniform(KATO + 0.5, KATO + 2.0))
        finally:
            t.proc.send_signal(signal.SIGCONT)

    def blackhole(self, t):
        self.net.drop_port(t.port, table="soak")
        try:
            time.sleep(self.rng.uniform(KATO + 0.5, KATO + 2.0))
        finally:
            self.net.undrop(table="soak")

    def link_down(self, t):
        subprocess.run(["ip", "link", "set", self.net.host_if, "down"], check=True)
        try:
            time.sleep(self.rng.uniform(0.5, 3.0))
        finally:
            subprocess.run(["ip", "link", "set", self.net.host_if, "up"], check=True)

    def reset(self, name):
        epoch = self.hostd_epoch
        r = self.stack.ctl("reset", name, timeout=60)
        if r.rc != 0 and self.hostd_restarted_since(epoch):
            # nvmf-hostd was killed under the reset (or is not back yet).
            with self.lock:
                self.faults["reset-while-hostd-down"] += 1
            return
        # A controller still reconnecting from an earlier fault has nothing to reset, as
        # the kernel's nvme reset refuses a controller that is not live.
        if r.rc == 1 and "is not connected" in r.err:
            with self.lock:
                self.faults["reset-while-disconnected"] += 1
            return
        if r.rc != 0:
            raise AssertionError("reset %s: %r" % (name, r))

    def devd_restart(self):
        s = self.stack
        s.devd.send_signal(signal.SIGKILL)
        s.devd.wait(10)
        if s.events is not None:
            s.events.close()
            s.events = None
        time.sleep(self.rng.uniform(0.2, 2.0))
        s.start_devd()

    def hostd_restart(self):
        s = self.stack
        self.hostd_down = True
        self.hostd_epoch += 1       # before the kill: errors from here on may be its
        s.hostd.send_signal(signal.SIGKILL)
        s.hostd.wait(10)
        time.sleep(self.rng.uniform(0.0, 1.0))
        subprocess.run(["umount", "-l", s.dev], stderr=subprocess.DEVNULL)
        try:
            s.start_hostd()
            wait_until(lambda: "ready:" in open(s.hostd_log, errors="replace").read(), 10,
                       what="nvmf-hostd ready")
        finally:
            self.hostd_down = False

    def draw(self):
        """Starts one fault on something that has none under way; False when all are busy."""
        kinds = []
        with self.lock:
            for idx, (t, name, _, _, _) in enumerate(self.ctrls):
                if idx in self.busy:
                    continue
                for k in KINDS_TARGET:
                    kinds.append((k, idx))
                if t.netns:
                    for k in KINDS_NETNS:
                        kinds.append((k, idx))
            if not self.host_busy:
                kinds += [(k, None) for k in KINDS_HOST]
                if self.args.hostd_restart:
                    kinds.append(("hostd-restart", None))
            if not kinds:
                return False
            kind, idx = self.rng.choice(kinds)
            if idx is None:
                self.host_busy = True
            else:
                self.busy.add(idx)
        if idx is None:
            fn = self.devd_restart if kind == "devd-restart" else self.hostd_restart
        else:
            t, name = self.ctrls[idx][0], self.ctrls[idx][1]
            fn = {"target-kill": lambda: self.target_kill(t),
                  "target-stop": lambda: self.target_stop(t),
                  "blackhole": lambda: self.blackhole(t),
                  "link-down": lambda: self.link_down(t),
                  "reset": lambda: self.reset(name)}[kind]
        self.faults[kind] += 1
        th = threading.Thread(target=self._run_fault, args=(kind, idx, fn), daemon=True)
        th.start()
        self.threads.append(th)
        return True

    def run(self):
        started = 0
        while started < self.args.faults:
            if self.draw():
                started += 1
            time.sleep(self.rng.uniform(0.2, 1.5))
        for th in self.threads:
            th.join(120)

    # ------------------------------------------------------------------ the verdict
    def settle(self):
        """Every controller connected again and I/O flowing on each."""
        def all_connected():
            states = {c["name"]: c["state"] for c in self.stack.devlist()}
            return all(states.get(name) == "connected" for (_, name, _, _, _) in self.ctrls)
        wait_until(all_connected, 90, interval=0.2, what="every controller connected")
        t = time.monotonic()
        for (_, name, _, w, _) in self.ctrls:
            wait_until(lambda: w.last_end() > t or w.errors, 30,
                       interval=0.05, what="writes on %s after the faults" % name)

    def recovery_worst(self):
        """The longest time from a fault's end to the next write completing on the
        controller it hit (on every controller for an nvmf-hostd restart)."""
        worst = 0.0
        ends = []
        for (_, _, _, w, _) in self.ctrls:
            with w.lock:
                ends.append(sorted(w.ends))     # once per writer, then a bisect per fault
        for kind, idx, _, end in self.fault_log:
            if idx is None and kind != "hostd-restart":
                continue
            for i in ([idx] if idx is not None else range(len(self.ctrls))):
                j = bisect.bisect_left(ends[i], end)
                if j < len(ends[i]):
                    worst = max(worst, ends[i][j] - end)
        return worst

    def verdict(self, t0):
        for (_, _, _, w, r) in self.ctrls:
            r.stop()
            w.stop()
        checks = []
        io_errors = sum(len(w.errors) + len(r.errors) for (_, _, _, w, r) in self.ctrls)
        checks.append(("no I/O error (none is allowed: no fast-io-fail, loss timer 60 s)",
                       io_errors == 0, [e for (_, _, _, w, r) in self.ctrls
                                        for e in w.errors + r.errors][:5]))
        bad_reads = [b for (_, _, _, _, r) in self.ctrls for b in r.bad]
        checks.append(("every read saw an acknowledged generation", not bad_reads,
                       bad_reads[:5]))
        lost, lost_file = [], []
        for (t, name, ns, w, _) in self.ctrls:
            lost += [(name,) + x for x in w.verify()]
            for b in range(w.nblocks):
                if file_block(t.image, b) != block_pattern(w.salt, b, w.gen[b]):
                    lost_file.append((name, b))
        checks.append(("every block reads back as its last acknowledged write", not lost,
                       lost[:5]))
        checks.append(("and so does the target's backing file", not lost_file, lost_file[:5]))
        checks.append(("every fault made and undone", not self.failures, self.failures[:5]))
        writes = sum(w.count() for (_, _, _, w, _) in self.ctrls)
        reads = sum(r.reads for (_, _, _, _, r) in self.ctrls)
        checks.append(("I/O flowed (writes and reads on every controller)",
                       all(w.count() > 0 and r.reads > 0
                           for (_, _, _, w, r) in self.ctrls), (writes, reads)))
        report = {
            "seed": self.args.seed,
            "faults": sum(self.faults.values()),
            "faults_by_kind": dict(sorted(self.faults.items())),
            "writes": writes,
            "reads": reads,
            "bytes_verified": (reads + sum(w.nblocks * 2 for (_, _, _, w, _) in self.ctrls))
            * BLOCK,
            "io_errors": io_errors,
            "io_unacknowledged_hostd_down": sum(w.unacknowledged
                                                for (_, _, _, w, _) in self.ctrls),
            "worst_recovery_s": round(self.recovery_worst(), 3),
            "seconds": round(time.monotonic() - t0, 1),
        }
        return checks, report


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--faults", type=int, default=int(os.environ.get("FAULTS", "50")))
    ap.add_argument("--seed", type=int, default=None)
    # nvmf-hostd restores its controllers from its state files: the fault is on by default.
    ap.add_argument("--hostd-restart", dest="hostd_restart", action="store_true", default=True)
    ap.add_argument("--no-hostd-restart", dest="hostd_restart", action="store_false")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    if args.seed is None:
        args.seed = random.getrandbits(32)
    print("soak: %d faults, seed %d" % (args.faults, args.seed), flush=True)
    t0 = time.monotonic()
    soak = Soak(args)
    checks, report, problems = [], {}, []
    try:
        soak.setup()
        soak.run()
        soak.settle()
        checks, report = soak.verdict(t0)
    except Exception as e:  # noqa: BLE001 - reported as a failed check with the logs
        checks.append(("the soak ran to its end", False, repr(e)))
    finally:
        problems = soak.stack.close()
    checks.append(("every daemon ended well", not problems, problems[:1]))
    passed = sum(1 for _, ok, _ in checks if ok)
    for what, ok, detail in checks:
        print("%s %s%s" % ("PASS" if ok else "FAIL", what,
                           "" if ok else ": %s" % (detail,)), flush=True)
    if report:
        print("report: %s" % json.dumps(report, sort_keys=True))
        if args.json:
            with open(args.json, "w") as f:
                json.dump(report, f, indent=2, sort_keys=True)
    print("soak: %d passed, %d failed" % (passed, len(checks) - passed))
    return 0 if passed == len(checks) else 1


if __name__ == "__main__":
    sys.exit(main())
