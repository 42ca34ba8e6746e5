#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""bench/bench.py - make bench: this machine's figures, and issue 9's goals as ratios to them.

In one run, on loopback, each figure the median of BENCH_RUNS runs (default 5) of
BENCH_SECONDS seconds (default 2), the runs of every figure interleaved so that a
ratio's two sides see the same load:

  references   pingpong: QD1 round trips of 72 B out / 4120 B back; a one-way 128 KiB
               stream; fio (libaio, O_DIRECT) on nullfuse's file (libfuse3 from memory
               with the namespace files' options): 4 KiB randread QD1 and QD32, 128 KiB
               read QD8
  library      nvmf-perf against nvmfd on RAM: 4 KiB randread QD1 (epoll, --busy-poll,
               and --busy-poll against a second nvmfd polling too: --busy-poll-us),
               QD32 on one queue, 128 KiB read QD8
  file         fio on nvmf-hostd's namespace file (nvmfd on RAM, nvmecontrol connect in a
               private run directory): the three fio workloads; QD1 again through a
               second nvmf-hostd with --busy-poll-us 50
  cubic        where the system's TCP congestion control paces (bbr), bulk data waits on
               it: the 128 KiB figures again with cubic (nvmfd --tcp-congestion cubic, a
               second controller in the same nvmf-hostd, pingpong -C cubic), beside the
               default's; the goals are judged on the default's rows (BENCH_CUBIC=0
               leaves them out)
  reconnect    nvmfd killed, restarted: from the target listening again to the first
               held read done, against reconnect-delay (1 s) + 100 ms
               (BENCH_RECONNECT=0 leaves it out)
  scale        bench/scale.py once (connecting takes a minute): BENCH_SCALE_N
               controllers (1000) in one nvmf-hostd, connect time, idle CPU and RSS,
               devlist (median of 5), every controller reconnected after nvmfd restarts
               (median of 5 restarts) (BENCH_SCALE=0 leaves it out)

Prints the table and the goal status; writes bench/results/bench-<time>.json, latest.json
and bench-<time>.png (gnuplot).
"""

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import mmap

import scale
from common import free_port, port_accepts, say, wait_for  # noqa: E402

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
BUILD = os.environ.get("BUILD", "build")
BIN = os.path.join(ROOT, BUILD, "bin")
BENCH_BIN = os.path.join(ROOT, BUILD, "bench")
RESULTS = os.path.join(ROOT, "bench", "results")
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "2"))
RECONNECT = os.environ.get("BENCH_RECONNECT", "1") != "0"
SCALE = os.environ.get("BENCH_SCALE", "1") != "0"
SCALE_N = int(os.environ.get("BENCH_SCALE_N", "1000"))
CUBIC = os.environ.get("BENCH_CUBIC", "1") != "0"
RECONNECT_DELAY = 1
ADDR = "127.0.0.1"
NQN = "nqn.2026-11.org.nvmf:bench"


def log(msg):
    say("bench", msg)


def available_congestion():
    try:
        with open("/proc/sys/net/ipv4/tcp_available_congestion_control") as f:
            return f.read().split()
    except OSError:
        return []


def run_json(argv, timeout=120):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(argv), r.returncode,
                                                r.stderr.strip()[-500:]))
    return json.loads(r.stdout)


class Stack:
    """Every process the bench starts, stopped in reverse order at the end."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="nvmf-bench.")
        self.procs = []
        self.mounts = []
        self.port = free_port()
        self.nvmfd = None
        self.run = os.path.join(self.tmp, "host")

    def spawn(self, name, argv, env=None):
        logf = open(os.path.join(self.tmp, name + ".log"), "ab")
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                             env=env)
        self.procs.append(p)
        return p

    def spawn_nvmfd(self, name, port, *opts, wait=True):
        """nvmfd on RAM at port, with opts; its process, once it listens if wait."""
        p = self.spawn(name, [os.path.join(BIN, "nvmfd"), "-d", "-a", ADDR, "-p", str(port),
                              "-P", "0", "-n", NQN, *opts, "ramdisk:1G"])
        if wait:
            wait_for(lambda: port_accepts(port), 10, name + " listening")
        return p

    def start_nvmfd(self):
        self.nvmfd = self.spawn_nvmfd("nvmfd", self.port)

    def start_polling_nvmfd(self):
        """A second target whose I/O queues poll (--busy-poll-us), as SPDK's do."""
        self.poll_port = free_port()
        self.spawn_nvmfd("nvmfd-polling", self.poll_port, "--busy-poll-us", "200")

    def start_cubic_nvmfd(self):
        """A third target whose connections use cubic (--tcp-congestion)."""
        self.cubic_port = free_port()
        self.spawn_nvmfd("nvmfd-cubic", self.cubic_port, "--tcp-congestion", "cubic")

    def connect(self, port, ns_file, *opts, run=None):
        """nvmecontrol connect [opts] to our target at port; the namespace file once it
        is there."""
        run = run or self.run
        r = self.ctl("connect", *opts, "%s:%d" % (ADDR, port), NQN, run=run)
        if r.returncode != 0:
            raise RuntimeError("nvmecontrol connect: %s" % r.stderr.strip())
        path = os.path.join(run, "dev", ns_file)
        wait_for(lambda: os.path.exists(path), 10, path)
        return path

    def connect_cubic(self):
        """The cubic target's namespace file, a second controller of the same host."""
        return self.connect(self.cubic_port, "nvme1ns1")

    def start_polling_host(self):
        """A second nvmf-hostd whose loop polls (--busy-poll-us 50), on the main target."""
        run = os.path.join(self.tmp, "host-poll")
        self.spawn("hostd-poll", [os.path.join(BIN, "nvmf-hostd"), "-d", "--rundir", run,
                                  "--busy-poll-us", "50"], env=dict(os.environ, NVMF_RUNDIR=run))
        wait_for(lambda: os.path.exists(os.path.join(run, "nvmf.sock")), 10,
                 "the polling nvmf-hostd's control socket")
        self.mounts.append(os.path.join(run, "dev"))
        return self.connect(self.port, "nvme0ns1", run=run)

    def kill_nvmfd(self):
        self.nvmfd.send_signal(signal.SIGKILL)
        self.nvmfd.wait()
        self.procs.remove(self.nvmfd)

    def start_nullfuse(self):
        mnt = os.path.join(self.tmp, "null")
        os.mkdir(mnt)
        self.spawn("nullfuse", [os.path.join(BENCH_BIN, "nullfuse"), mnt, "1024"])
        self.mounts.append(mnt)
        path = os.path.join(mnt, "null")
        wait_for(lambda: os.path.exists(path), 10, "nullfuse mounted")
        return path

    def ctl(self, *args, run=None):
        return subprocess.run([os.path.join(BIN, "nvmecontrol"), "--rundir", run or self.run] +
                              list(args), capture_output=True, text=True, timeout=60)

    def start_host(self):
        env = dict(os.environ, NVMF_RUNDIR=self.run)
        self.spawn("hostd", [os.path.join(BIN, "nvmf-hostd"), "-d", "--rundir", self.run],
                   env=env)
        wait_for(lambda: os.path.exists(os.path.join(self.run, "nvmf.sock")), 10,
                 "nvmf-hostd's control socket")
        self.spawn("devd", [os.path.join(BIN, "nvmf-devd"), "-d", "--rundir", self.run,
                            "-f", os.path.join(ROOT, "etc", "nvmf.conf")], env=env)
        wait_for(lambda: os.path.exists(os.path.join(self.run, "devd.pipe")), 10,
                 "nvmf-devd's devd.pipe")
        self.mounts.append(os.path.join(self.run, "dev"))
        return self.connect(self.port, "nvme0ns1", "-r", str(RECONNECT_DELAY), "-l", "60")

    def stop(self):
        if os.path.exists(os.path.join(self.run, "nvmf.sock")):
            self.ctl("disconnect-all")
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for m in self.mounts:
            subprocess.run(["umount", "-l", m], capture_output=True)
        shutil.rmtree(self.tmp, ignore_errors=True)


# ------------------------------------------------------------------ measurements
def pingpong():
    d = run_json([os.path.join(BENCH_BIN, "pingpong"), "-t", str(SECONDS)])
    return {"pingpong_rtt_us": d["rtt_avg_us"], "pingpong_rate": d["rate"]}


def stream():
    d = run_json([os.path.join(BENCH_BIN, "pingpong"), "-S", "-t", str(SECONDS)])
    return {"stream_mibs": d["stream_mibs"]}


def stream_cubic():
    d = run_json([os.path.join(BENCH_BIN, "pingpong"), "-S", "-C", "cubic", "-t",
                  str(SECONDS)])
    return {"stream_cubic_mibs": d["stream_mibs"]}


def fio_job(path, rw, bs, qd):
    """One fio run (libaio, O_DIRECT) on path: its read statistics."""
    d = run_json(["fio", "--name=bench", "--filename=" + path, "--ioengine=libaio",
                  "--direct=1", "--rw=" + rw, "--bs=" + bs, "--iodepth=%d" % qd,
                  "--size=256m", "--runtime=%g" % SECONDS, "--time_based",
                  "--output-format=json"])
    return d["jobs"][0]["read"]


def fio_qd1(path, key):
    return {key: fio_job(path, "randread", "4k", 1)["lat_ns"]["mean"] / 1000.0}


def fio_128k(path, key):
    return {key: fio_job(path, "read", "128k", 8)["bw_bytes"] / 2.0 ** 20}


def perf_base(port):
    """nvmf-perf against our target at port, for the run's seconds, JSON out."""
    trid = "trtype:tcp traddr:%s trsvcid:%d subnqn:%s" % (ADDR, port, NQN)
    return [os.path.join(BIN, "nvmf-perf"), "-r", trid, "-t",
            "%d" % max(1, round(SECONDS)), "--json"]


def perf_128k_cubic(port):
    d = run_json(perf_base(port) + ["-q", "8", "-o", "131072", "-w", "read"])
    return {"perf_128k_cubic_mibs": d["bandwidth_mibs"]}


FIO_WORKLOADS = (("qd1", "randread", "4k", 1), ("qd32", "randread", "4k", 32),
                 ("128k", "read", "128k", 8))


def fio(path, prefix):
    out = {}
    for name, rw, bs, qd in FIO_WORKLOADS:
        job = fio_job(path, rw, bs, qd)
        if name == "qd1":
            out[prefix + "_qd1_lat_us"] = job["lat_ns"]["mean"] / 1000.0
        elif name == "qd32":
            out[prefix + "_qd32_iops"] = job["iops"]
        else:
            out[prefix + "_128k_mibs"] = job["bw_bytes"] / 2.0 ** 20
    return out


def nvmf_perf(port, poll_port):
    base = perf_base(port)
    qd1 = run_json(base + ["-q", "1", "-o", "4096", "-w", "randread"])
    busy = run_json(base + ["-q", "1", "-o", "4096", "-w", "randread", "--busy-poll"])
    both = run_json(perf_base(poll_port) + ["-q", "1", "-o", "4096", "-w", "randread",
                                            "--busy-poll"])
    qd32 = run_json(base + ["-q", "32", "-o", "4096", "-w", "randread", "-P", "1"])
    big = run_json(base + ["-q", "8", "-o", "131072", "-w", "read"])
    return {"perf_qd1_lat_us": qd1["avg_latency_us"],
            "perf_qd1_p50_us": qd1["p50_latency_us"],
            "perf_qd1_busy_lat_us": busy["avg_latency_us"],
            "perf_qd1_both_poll_lat_us": both["avg_latency_us"],
            "perf_qd32_iops": qd32["iops"],
            "perf_128k_mibs": big["bandwidth_mibs"]}


def reconnect_once(stack, path):
    """Kills nvmfd, starts a read (held), restarts nvmfd; seconds from listening to read."""
    stack.kill_nvmfd()
    done = {}

    def reader():
        fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
        buf = mmap.mmap(-1, 4096)
        try:
            os.preadv(fd, [buf], 0)
            done["t"] = time.monotonic()
        except OSError as e:
            done["error"] = str(e)
        finally:
            os.close(fd)

    th = threading.Thread(target=reader)
    th.start()
    time.sleep(0.3)          # the read is held by now
    stack.nvmfd = stack.spawn_nvmfd("nvmfd", stack.port, wait=False)
    while not port_accepts(stack.port):
        time.sleep(0.001)
    back = time.monotonic()
    th.join(timeout=RECONNECT_DELAY * 3 + 30)
    if "t" not in done:
        raise RuntimeError("held read after the restart: %s" % done.get("error", "hung"))
    return max(0.0, done["t"] - back)


# ------------------------------------------------------------------------- report
GOALS = [
    # key, label, numerator, denominator(s), comparison, goal
    ("qd1", "nvmf-perf 4k randread QD1 latency / ping-pong", "perf_qd1_lat_us",
     ("pingpong_rtt_us",), "<=", 1.0),
    ("qd1_busy", "  same with --busy-poll", "perf_qd1_busy_lat_us", ("pingpong_rtt_us",),
     "<=", 0.7),
    ("qd1_both", "  same, nvmfd polling too (--busy-poll-us 200)", "perf_qd1_both_poll_lat_us",
     ("pingpong_rtt_us",), "<=", 0.7),
    ("qd32", "nvmf-perf 4k randread QD32 1 queue IOPS / ping-pong rate", "perf_qd32_iops",
     ("pingpong_rate",), ">=", 12.0),
    ("128k", "nvmf-perf 128k read QD8 bandwidth / stream", "perf_128k_mibs",
     ("stream_mibs",), ">=", 1.0),
    ("file_qd32", "fio on the file 4k randread QD32 / null FUSE", "file_qd32_iops",
     ("null_qd32_iops",), ">=", 0.5),
    ("file_qd1", "fio on the file QD1 latency / (nvmf-perf QD1 + null FUSE QD1)",
     "file_qd1_lat_us", ("perf_qd1_lat_us", "null_qd1_lat_us"), "<=", 1.2),
    ("file_qd1_poll", "  same, nvmf-hostd --busy-poll-us 50 / (perf --busy-poll + null)",
     "file_qd1_poll_lat_us", ("perf_qd1_busy_lat_us", "null_qd1_lat_us"), "<=", 1.2),
    ("file_128k", "fio on the file 128k read QD8 / null FUSE", "file_128k_mibs",
     ("null_128k_mibs",), ">=", 0.5),
    ("128k_cubic", "  nvmf-perf 128k, cubic (nvmfd --tcp-congestion) / stream -C cubic",
     "perf_128k_cubic_mibs", ("stream_cubic_mibs",), ">=", 1.0),
    ("file_128k_cubic", "  file 128k, nvmfd --tcp-congestion cubic / null FUSE",
     "file_128k_cubic_mibs", ("null_128k_mibs",), ">=", 0.5),
    ("resume", "target back -> first I/O done / (reconnect-delay + 100 ms)",
     "resume_s", ("resume_budget_s",), "<=", 1.0),
]

FIGURES = [
    ("pingpong_rtt_us", "ping-pong 72 B / 4120 B round trip", "us"),
    ("pingpong_rate", "ping-pong rate", "round trips/s"),
    ("stream_mibs", "TCP stream, 128 KiB writes", "MiB/s"),
    ("stream_cubic_mibs", "  same, cubic on both ends", "MiB/s"),
    ("null_qd1_lat_us", "fio null FUSE 4k randread QD1", "us"),
    ("null_qd32_iops", "fio null FUSE 4k randread QD32", "IOPS"),
    ("null_128k_mibs", "fio null FUSE 128k read QD8", "MiB/s"),
    ("perf_qd1_lat_us", "nvmf-perf 4k randread QD1 (avg)", "us"),
    ("perf_qd1_p50_us", "nvmf-perf 4k randread QD1 (p50)", "us"),
    ("perf_qd1_busy_lat_us", "nvmf-perf 4k randread QD1 --busy-poll", "us"),
    ("perf_qd1_both_poll_lat_us", "  same, nvmfd --busy-poll-us 200", "us"),
    ("perf_qd32_iops", "nvmf-perf 4k randread QD32, 1 queue", "IOPS"),
    ("perf_128k_mibs", "nvmf-perf 128k read QD8", "MiB/s"),
    ("perf_128k_cubic_mibs", "  same, nvmfd --tcp-congestion cubic", "MiB/s"),
    ("file_qd1_lat_us", "fio on the file 4k randread QD1", "us"),
    ("file_qd1_poll_lat_us", "  same, nvmf-hostd --busy-poll-us 50", "us"),
    ("file_qd32_iops", "fio on the file 4k randread QD32", "IOPS"),
    ("file_128k_mibs", "fio on the file 128k read QD8", "MiB/s"),
    ("file_128k_cubic_mibs", "  same, nvmfd --tcp-congestion cubic", "MiB/s"),
    ("resume_s", "target back -> first I/O done", "s"),
] + [(k, "many controllers: " + label.strip(), unit) for k, label, unit in scale.FIGURES]


def evaluate(med):
    goals = []
    for key, label, num, dens, cmp, goal in GOALS:
        entry = {"key": key, "label": label, "goal": "%s %g" % (cmp, goal)}
        if num in med and all(d in med for d in dens):
            ratio = med[num] / sum(med[d] for d in dens)
            ok = ratio <= goal if cmp == "<=" else ratio >= goal
            entry.update(ratio=round(ratio, 3), status="holds" if ok else "missed",
                         margin=round(goal / ratio if cmp == "<=" else ratio / goal, 3)
                         if ratio > 0 else 0)
        else:
            entry.update(ratio=None, status="not measured")
        goals.append(entry)
    if "scale_controllers" in med:
        goals += scale.evaluate(med)
    else:
        goals.append({"key": "many", "label": "1,000 controllers in one nvmf-hostd",
                      "goal": "see bench/scale.py", "ratio": None,
                      "status": "not measured (BENCH_SCALE=0)"})
    return goals


def report(med, runs, goals, errors):
    lines = ["", "make bench: median of %d runs of %g s each" % (RUNS, SECONDS), ""]
    lines.append("%-40s %12s %-14s %s" % ("figure", "median", "", "runs"))
    for key, label, unit in FIGURES:
        if key in med:
            lines.append("%-40s %12.2f %-14s %s" % (label, med[key], unit,
                                                  " ".join("%.4g" % v for v in runs[key])))
    lines += ["", "%-66s %8s %7s  %s" % ("goal", "ratio", "goal", "status")]
    for g in goals:
        lines.append("%-66s %8s %7s  %s" % (g["label"], "" if g["ratio"] is None else
                                             "%.3f" % g["ratio"], g["goal"].split(",")[0]
                                             if g["ratio"] is not None else "", g["status"]))
    for e in errors:
        lines.append("error: %s" % e)
    return "\n".join(lines)


def plot(goals, png):
    """Margins to each goal (>= 1: holds), a bar per goal, with the line at 1."""
    if shutil.which("gnuplot") is None:
        log("gnuplot is not installed: no PNG (scripts/install-deps.sh installs gnuplot-nox)")
        return
    data = png[:-4] + ".dat"
    with open(data, "w") as f:
        for g in goals:
            if g.get("margin") is not None:
                f.write('"%s" %f\n' % (g["key"], g["margin"]))
    script = "\n".join([
        "set terminal pngcairo size 900,500 noenhanced",
        "set output '%s'" % png,
        "set title 'make bench: measured / goal (>= 1 holds)'",
        "set style data histograms",
        "set style fill solid 0.6 border -1",
        "set boxwidth 0.7",
        "set yrange [0:*]",
        "set grid ytics",
        "set xtics rotate by -30",
        "set arrow from graph 0, first 1 to graph 1, first 1 nohead lc rgb 'red' lw 2",
        "plot '%s' using 2:xtic(1) notitle" % data,
    ])
    r = subprocess.run(["gnuplot"], input=script, capture_output=True, text=True)
    if r.returncode != 0:
        log("gnuplot failed: %s" % r.stderr.strip())


def main():
    for prog in (os.path.join(BIN, "nvmf-perf"), os.path.join(BIN, "nvmfd"),
                 os.path.join(BENCH_BIN, "pingpong"), os.path.join(BENCH_BIN, "nullfuse")):
        if not os.access(prog, os.X_OK):
            sys.exit("bench: %s is not built (make bench builds it)" % prog)
    if shutil.which("fio") is None:
        sys.exit("bench: fio is not installed (scripts/install-deps.sh)")
    os.makedirs(RESULTS, exist_ok=True)
    runs = {}
    errors = []
    stack = Stack()

    def add(d):
        for k, v in d.items():
            runs.setdefault(k, []).append(v)

    def attempt(what, fn, *args):
        try:
            add(fn(*args))
        except Exception as e:  # noqa: BLE001 - a failed figure is reported, the rest goes on
            errors.append("%s: %s" % (what, e))
            log("%s failed: %s" % (what, e))

    try:
        null_path = stack.start_nullfuse()
        stack.start_nvmfd()
        stack.start_polling_nvmfd()
        cubic = CUBIC and "cubic" in available_congestion()
        if cubic:
            stack.start_cubic_nvmfd()
        file_path = cubic_path = poll_path = None
        try:
            file_path = stack.start_host()
            if cubic:
                cubic_path = stack.connect_cubic()
            poll_path = stack.start_polling_host()
        except Exception as e:  # noqa: BLE001
            errors.append("host stack: %s" % e)
            log("host stack failed: %s" % e)
        for i in range(RUNS):
            log("run %d of %d" % (i + 1, RUNS))
            attempt("pingpong", pingpong)
            attempt("stream", stream)
            attempt("fio on null FUSE", fio, null_path, "null")
            attempt("nvmf-perf", nvmf_perf, stack.port, stack.poll_port)
            if file_path is not None:
                attempt("fio on the namespace file", fio, file_path, "file")
            if poll_path is not None:
                attempt("fio QD1 on the polling host's file", fio_qd1, poll_path,
                        "file_qd1_poll_lat_us")
            if cubic:
                attempt("stream, cubic", stream_cubic)
                attempt("nvmf-perf, cubic", perf_128k_cubic, stack.cubic_port)
                if cubic_path is not None:
                    attempt("fio on the cubic target's file", fio_128k, cubic_path,
                            "file_128k_cubic_mibs")
        if RECONNECT and file_path is not None:
            for i in range(RUNS):
                log("reconnect %d of %d" % (i + 1, RUNS))
                try:
                    add({"resume_s": reconnect_once(stack, file_path),
                         "resume_budget_s": RECONNECT_DELAY + 0.1})
                except Exception as e:  # noqa: BLE001
                    errors.append("reconnect: %s" % e)
                    log("reconnect failed: %s" % e)
                    break
    finally:
        stack.stop()
    if SCALE:
        log("many controllers: %d" % SCALE_N)
        attempt("many controllers", scale.measure, SCALE_N)

    med = {k: statistics.median(v) for k, v in runs.items()}
    goals = evaluate(med)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    result = {"time": stamp, "runs": RUNS, "seconds": SECONDS, "median": med, "all": runs,
              "goals": goals, "errors": errors, "machine": {"cpus": os.cpu_count(),
                                                            "kernel": os.uname().release}}
    for name in ("bench-%s.json" % stamp, "latest.json"):
        with open(os.path.join(RESULTS, name), "w") as f:
            json.dump(result, f, indent=1)
    png = os.path.join(RESULTS, "bench-%s.png" % stamp)
    plot(goals, png)
    print(report(med, runs, goals, errors))
    print("\nresults: %s (JSON), %s (plot)" % (os.path.join(RESULTS, "latest.json"), png))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
