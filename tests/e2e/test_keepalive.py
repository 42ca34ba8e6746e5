# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""Keep-alive: a silent host loses its association within KATO; a chatty one keeps it."""

import time

from conftest import wait_closed

KATO_MS = 1000


def test_silent_host_loses_the_association(nvmfd):
    t = nvmfd.start("ramdisk:1M")
    c = t.controller(kato=KATO_MS)
    try:
        (io,) = c.connect_io(1)
        io.write(1, 0, bytes(512))
        last = time.monotonic()            # the target saw our last command before this
        closed = wait_closed([c.admin, io], timeout=3)
        assert 0 in closed, "admin queue still open %.1f s after going silent" % (
            time.monotonic() - last)
        assert 1 in closed, "I/O queue still open after the association ended"
        admin_after = closed[0] - last
        io_after = closed[1] - last
        assert admin_after <= 1.3, "admin queue closed %.2f s after the last command " \
            "(KATO %d ms)" % (admin_after, KATO_MS)
        assert io_after <= 1.3, "I/O queue closed %.2f s after the last command" % io_after
        assert min(admin_after, io_after) >= 0.9, \
            "closed %.2f s after the last command, before KATO ran out" % min(admin_after,
                                                                             io_after)
        line = t.wait_log(r"(?i)keep.?alive")
        assert str(c.cntlid) in line or c.hostnqn in line, line
    finally:
        c.close()


def test_keep_alive_commands_keep_it(nvmfd):
    t = nvmfd.start("ramdisk:1M")
    c = t.controller(kato=KATO_MS)
    try:
        (io,) = c.connect_io(1)
        start = time.monotonic()
        while time.monotonic() - start < 3.2:
            c.admin.keep_alive()
            time.sleep(0.3)
        # Both queues are alive and working past three times KATO.
        assert not io.is_closed(timeout=0.01) and not c.admin.is_closed(timeout=0.01)
        io.write(1, 5, b"\x5a" * 512)
        assert io.read(1, 5, 1) == b"\x5a" * 512
        assert "keep-alive" not in t.log().lower()
    finally:
        c.close()


def test_kato_set_by_set_features_is_enforced(nvmfd):
    t = nvmfd.start("ramdisk:1M")
    c = t.controller(kato=0)
    try:
        (io,) = c.connect_io(1)
        c.admin.set_features(0x0F, KATO_MS, check=True)
        last = time.monotonic()
        closed = wait_closed([c.admin, io], timeout=3)
        assert len(closed) == 2, "association kept %.1f s after KATO %d ms was set" % (
            time.monotonic() - last, KATO_MS)
        assert max(closed.values()) - last <= 1.3
        t.wait_log(r"(?i)keep.?alive")
    finally:
        c.close()


def test_io_traffic_keeps_the_association(nvmfd):
    """Identify advertises TBKAS: commands on any queue restart the keep-alive timer."""
    t = nvmfd.start("ramdisk:1M")
    c = t.controller(kato=KATO_MS)
    try:
        ctratt = int.from_bytes(c.admin.identify(1).data[96:100], "little")
        (io,) = c.connect_io(1)
        start = time.monotonic()
        n = 0
        while time.monotonic() - start < 2.5:
            io.write(1, n % 64, bytes(512))
            n += 1
            time.sleep(0.3)
        # nvmfd advertises Traffic Based Keep Alive, as nvmet does: no branch on it.
        assert ctratt & (1 << 6), "Identify CTRATT 0x%x lacks TBKAS" % ctratt
        assert n >= 8
        assert not c.admin.is_closed(timeout=0.01), \
            "TBKAS advertised, yet I/O traffic did not keep the association"
        c.admin.keep_alive()
        io.write(1, 0, bytes(512))
    finally:
        c.close()
