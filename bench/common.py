# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""bench/common.py - what bench.py and scale.py share: ports, waits, the log line."""

import socket
import sys
import time

ADDR = "127.0.0.1"


def say(tag, msg):
    print("%s: %s" % (tag, msg), file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind((ADDR, 0))
        return s.getsockname()[1]


def port_accepts(port):
    try:
        with socket.create_connection((ADDR, port), timeout=0.2):
            return True
    except OSError:
        return False


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise RuntimeError("%s did not happen within %s s" % (what, timeout))
        time.sleep(0.02)
