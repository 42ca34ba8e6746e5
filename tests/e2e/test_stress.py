# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""Load: full queues, the most queues, many associations, shutdown under load."""

import signal
import threading
import time

import nvme_tcp as nt
from conftest import ADDR

KIB = 1024


def test_a_full_queue_of_writes_through_r2t(nvmfd):
    t = nvmfd.start("ramdisk:32M")
    c = t.controller()
    try:
        cap = c.admin.property_get(nt.REG_CAP, eight=True)
        entries = (cap & 0xFFFF) + 1
        (q,) = c.connect_io(1, sqsize=entries - 1)
        depth = entries - 1                       # a full SQ holds one entry less
        blobs = {i: nt.random_bytes(16 * KIB, 700 + i) for i in range(depth)}
        cids = {q.submit(q.write_cmd(1, i * 32, 32), d, in_capsule=False): i
                for i, d in blobs.items()}
        for cqe in q.wait_all(list(cids), timeout=20):
            assert cqe.status == 0, cqe
        assert q.stats["r2t"] == depth
        cids = {q.submit(q.read_cmd(1, i * 32, 32), read_len=16 * KIB): i for i in blobs}
        for cqe in q.wait_all(list(cids), timeout=20):
            assert cqe.status == 0 and cqe.data == blobs[cids[cqe.cid]]
    finally:
        c.close()


def test_the_most_io_queues(nvmfd):
    t = nvmfd.start("ramdisk:8M")
    c = t.controller()
    try:
        c.identify_controller()
        nsq, ncq = c.set_num_queues(1000)
        assert 1 <= nsq < 1000 and nsq == ncq, "granted %d/%d of 1000" % (nsq, ncq)
        qs = []
        for qid in range(1, nsq + 1):
            q = t.queue()
            q.connect(t.subnqn, c.hostnqn, c.hostid, qid=qid, sqsize=7, cntlid=c.cntlid,
                      check=True)
            qs.append(q)
        extra = t.queue()
        cqe = extra.connect(t.subnqn, c.hostnqn, c.hostid, qid=nsq + 1, sqsize=7,
                            cntlid=c.cntlid)
        assert cqe.status != 0, "queue %d connected beyond the %d granted" % (nsq + 1, nsq)
        extra.close()
        for i, q in enumerate(qs):
            q.write(1, i, bytes([i & 0xFF]) * 512)
        for i, q in enumerate(qs):
            assert qs[-1 - i].read(1, i, 1) == bytes([i & 0xFF]) * 512
        for q in qs:
            q.close()
    finally:
        c.close()


def test_many_associations_come_and_go(nvmfd):
    t = nvmfd.start("ramdisk:8M")
    errors = []
    cntlids = []
    lock = threading.Lock()

    def churn(k):
        try:
            for i in range(8):
                c = nt.Controller(ADDR, t.port, t.subnqn, kato=5000)
                with lock:
                    cntlids.append(c.cntlid)
                (q,) = c.connect_io(1)
                d = nt.random_bytes(4096, k * 100 + i)
                q.write(1, k * 64 + i * 8, d)
                assert q.read(1, k * 64 + i * 8, 8) == d
                if i % 2:
                    c.admin.disconnect()
                c.close()
        except Exception as e:  # noqa: BLE001
            errors.append("worker %d: %r" % (k, e))

    ths = [threading.Thread(target=churn, args=(k,)) for k in range(8)]
    for th in ths:
        th.start()
    for th in ths:
        th.join(30)
    assert not errors, errors
    assert len(cntlids) == 64
    assert t.alive()
    # Controller IDs of live associations are unique.
    live = [nt.Controller(ADDR, t.port, t.subnqn) for _ in range(5)]
    try:
        assert len({c.cntlid for c in live}) == 5
    finally:
        for c in live:
            c.close()


def test_sigterm_under_load_exits_cleanly(nvmfd):
    for round_ in range(3):
        t = nvmfd.start("ramdisk:16M", opts=("-g", "-G"))
        stop = threading.Event()
        errors = []
        done = [0] * 4                              # I/O pairs completed per worker

        def load(k):
            try:
                c = t.controller(hdgst=bool(k % 2), ddgst=bool(k % 2))
                (q,) = c.connect_io(1)
                data = nt.random_bytes(128 * KIB, round_ * 10 + k)
                while not stop.is_set():
                    # The write completes before the read is sent: NVMe orders neither.
                    w = q.wait(q.submit(q.write_cmd(1, k * 256, 256), data))
                    r = q.wait(q.submit(q.read_cmd(1, k * 256, 256), read_len=128 * KIB))
                    if w.status != 0 or r.status != 0 or r.data != data:
                        errors.append("worker %d: status 0x%x/0x%x or data differs" %
                                      (k, w.status, r.status))
                        return
                    done[k] += 1
            except (nt.ConnectionClosed, ConnectionError):
                pass                                # the target went away: expected
            except Exception as e:  # noqa: BLE001
                errors.append("worker %d: %r" % (k, e))

        ths = [threading.Thread(target=load, args=(k,)) for k in range(4)]
        for th in ths:
            th.start()
        deadline = time.monotonic() + 10
        while min(done) < 3 and not errors and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not errors, errors
        assert min(done) >= 3, "round %d: no load before SIGTERM: %s" % (round_, done)
        verdict = t.stop()                          # SIGTERM mid-I/O
        stop.set()
        for th in ths:
            th.join(10)
        assert not any(th.is_alive() for th in ths), "a worker hung after SIGTERM"
        assert verdict is None, "round %d: %s\n%s" % (round_, verdict, t.log()[-2000:])
        assert not errors, errors
