# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""A namespace as a disk for ordinary programs (issue 3).

Each test runs the whole stack: its own nvmfd on 127.0.0.1 (conftest's nvmfd
fixture), its own nvmf-hostd in a private run directory, and nvmecontrol to
connect; then ordinary programs use DIR/dev/nvme0ns1 as they would any disk
image: fio with crc32c verification, a loop device with ext4 on it across a
disconnect and reconnect, plain read/write/fsync/fallocate, and threads.
"""

import os
import random
import shutil
import threading

import pytest

import host_disk_helpers as hd
from host_disk_helpers import MIB

ADDR = "127.0.0.1"


def need(*programs):
    missing = [p for p in programs if shutil.which(p) is None]
    if missing:
        pytest.fail("missing programs %s (scripts/install-deps.sh installs them)" % missing)


@pytest.fixture
def host(tmp_path, nvmfd):
    """nvmf-hostd in tmp_path/hostd-run; stopped after the test's loops and mounts are
    undone. Requests nvmfd first so that the targets outlive the host."""
    for b in (hd.HOSTD, hd.NVMECONTROL):
        if not os.access(b, os.X_OK):
            pytest.fail("%s is not built (run make all)" % b)
    stack = hd.HostStack(tmp_path)
    try:
        stack.start()
        yield stack
    finally:
        problems = stack.stop()
        if problems:
            pytest.fail("\n".join(problems), pytrace=False)


def connect_one(host, target, nr_io=2):
    ctrl = host.connect(ADDR, target.port, target.subnqn, nr_io=nr_io)
    assert ctrl["subnqn"] == target.subnqn
    assert ctrl["io_queues"] == nr_io, "devlist shows %s I/O queues, asked for %d" % (
        ctrl["io_queues"], nr_io)
    assert len(ctrl["namespaces"]) == 1, ctrl["namespaces"]
    ns = ctrl["namespaces"][0]
    path = host.ns_path(ns["name"])
    assert os.path.exists(path)
    assert os.path.getsize(path) == ns["size"], "file size %d, devlist says %d" % (
        os.path.getsize(path), ns["size"])
    return ctrl, ns, path


def make_image(path, size, seed=None):
    """A backing file of size bytes: sparse, or every block written with random bytes."""
    with open(path, "wb") as f:
        if seed is None:
            f.truncate(size)
        else:
            rng = random.Random(seed)
            for _ in range(size // MIB):
                f.write(rng.randbytes(MIB))
    return str(path)


# ------------------------------------------------------------------ a. fio
@pytest.mark.parametrize("ioengine", ["libaio", "psync"])
def test_fio_random_rw_crc32c_verify(nvmfd, host, tmp_path, ioengine, capsys):
    """fio randrw, 4 jobs on disjoint 32 MiB regions (libaio at queue depth 16, or psync),
    crc32c verify of every block written, over a controller with 2 I/O queues."""
    need("fio")
    t = nvmfd.start("ramdisk:128M")
    ctrl, ns, path = connect_one(host, t, nr_io=2)
    assert ns["size"] == 128 * MIB

    rc, text, data = hd.fio_verify_job(path, str(tmp_path / "fio.json"), runtime=15,
                                       numjobs=4, size_mb=32, iodepth=16, ioengine=ioengine)
    assert data is not None, "fio wrote no JSON (exit %d):\n%s" % (rc, text[-4000:])
    s = hd.fio_summary(data)
    with capsys.disabled():         # the numbers show in a normal (captured) run too
        print("\nfio through %s (nvmfd ramdisk, 2 I/O queues, %s%s x 4 jobs, 4 KiB randrw "
              "+ crc32c verify): read %.0f IOPS %.1f MB/s, write %.0f IOPS %.1f MB/s, "
              "%d reads (incl. verify) %d writes, %d ms" % (
                  os.path.basename(path), ioengine, " QD16" if ioengine == "libaio" else "",
                  s["read_iops"], s["read_MBps"], s["write_iops"], s["write_MBps"],
                  s["read_ios"], s["write_ios"], s["runtime_ms"]))
    assert rc == 0, "fio exited %d:\n%s" % (rc, text[-4000:])
    assert s["error"] == 0, "fio job error %d:\n%s" % (s["error"], text[-4000:])
    bad = hd.fio_verify_problems(text)
    assert not bad, "fio reported errors:\n" + "\n".join(bad[:40])
    assert s["write_ios"] > 0 and s["read_ios"] > 0, s
    # Every block written was read back for verification (plus the random reads).
    assert s["read_ios"] >= s["write_ios"], s
    assert host.alive()


# ------------------------------------------------------------------ b. loop + ext4
def write_tree(root, seed):
    """Files of assorted sizes (empty, sub-block, odd, several MiB) in a small tree;
    returns {relative path: sha256}."""
    rng = random.Random(seed)
    sizes = [0, 1, 511, 4096, 4097, 65536 + 3, 300 * 1024, 3 * MIB + 17]
    sums = {}
    for i, size in enumerate(sizes):
        rel = os.path.join("d%d" % (i % 3), "f%d.bin" % i)
        full = os.path.join(root, rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(rng.randbytes(size))
            f.flush()
            os.fsync(f.fileno())
        sums[rel] = hd.sha256_file(full)
    return sums


def read_tree(root, names):
    return {rel: hd.sha256_file(os.path.join(root, rel)) for rel in names}


def test_ext4_on_a_loop_device_across_reconnect(nvmfd, host, tmp_path):
    need("losetup", "mkfs.ext4", "e2fsck", "mount", "umount")
    img = make_image(tmp_path / "disk.img", 64 * MIB)
    t = nvmfd.start(img)
    ctrl, ns, path = connect_one(host, t)
    mnt = str(tmp_path / "mnt")

    dev = host.losetup(path)
    assert hd.loop_backing(dev) == path
    hd.run(["mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", dev],
           timeout=120)
    host.mount(dev, mnt)
    sums = write_tree(mnt, seed=7)
    hd.run(["sync", "-f", mnt])
    hd.umount(mnt)
    hd.loop_detach(dev)

    host.disconnect(ctrl["name"])           # exit status 0, else run() raises
    assert not os.path.exists(path), "%s still there after disconnect" % path
    assert host.devlist() == [], "controllers left after disconnect"

    ctrl2, ns2, path2 = connect_one(host, t)
    assert ns2["size"] == ns["size"]
    dev = host.losetup(path2)
    # The file system is clean (fsck read-only) and holds the files, byte for byte.
    rc, out, err = hd.run(["e2fsck", "-f", "-n", dev], check=False, timeout=120)
    assert rc == 0, "e2fsck -f -n found problems (exit %d):\n%s%s" % (rc, out, err)
    host.mount(dev, mnt)
    assert read_tree(mnt, sums) == sums, "files differ after disconnect and reconnect"
    hd.umount(mnt)
    hd.loop_detach(dev)


# ------------------------------------------------------------------ c. the backing file
def test_writes_land_in_the_backing_file_fsync_and_punch_hole(nvmfd, host, tmp_path):
    need("fallocate")
    size = 16 * MIB
    img = make_image(tmp_path / "disk.img", size, seed=3)
    original = hd.file_bytes(img, 0, size)
    t = nvmfd.start(img)
    ctrl, ns, path = connect_one(host, t)
    assert ns["size"] == size
    rng = random.Random(11)

    # (offset, length): aligned, unaligned at either end, inside one block, the last block,
    # and larger than one 1 MiB FUSE request.
    spans = [(0, 4096), (MIB + 512, 8192), (3 * MIB + 100, 777), (5 * MIB - 300, 600),
             (7 * MIB + 4095, 2), (8 * MIB + 1, 2 * MIB + 5), (size - 4096, 4096)]
    fd = os.open(path, os.O_RDWR)
    try:
        assert hd.pread_exact(fd, 4096, 0) == original[:4096], "reads differ from the file"
        expect = bytearray(original)
        for off, n in spans:
            data = rng.randbytes(n)
            hd.pwrite_all(fd, data, off)
            expect[off:off + n] = data
        os.fsync(fd)
        os.fdatasync(fd)
        for off, n in spans:
            # The same bytes at the same offsets in nvmfd's file, neighbours untouched.
            lo, hi = max(0, off - 4096), min(size, off + n + 4096)
            got = hd.file_bytes(img, lo, hi - lo)
            assert got == bytes(expect[lo:hi]), "backing file differs around %d+%d" % (off, n)
            assert hd.pread_exact(fd, hi - lo, lo) == bytes(expect[lo:hi])
        assert hd.file_bytes(img, 0, size) == bytes(expect), "backing file differs elsewhere"
        assert os.path.getsize(img) == size

        # Punch holes: aligned, unaligned at both ends, and a sub-block one.
        holes = [(4 * MIB, MIB), (6 * MIB + 1000, 20000), (10 * MIB + 10, 100)]
        for off, n in holes:
            hd.run(["fallocate", "-p", "-o", str(off), "-l", str(n), path])
            expect[off:off + n] = bytes(n)
        os.fsync(fd)
        for off, n in holes:
            lo, hi = off - 4096, off + n + 4096
            got = hd.pread_exact(fd, hi - lo, lo)
            assert got[4096:4096 + n] == bytes(n), "punched range %d+%d not zero" % (off, n)
            assert got == bytes(expect[lo:hi]), "punch-hole %d+%d touched its neighbours" % (
                off, n)
            assert hd.file_bytes(img, lo, hi - lo) == bytes(expect[lo:hi]), \
                "backing file around the hole %d+%d" % (off, n)
        assert hd.pread_exact(fd, size, 0) == bytes(expect), "namespace differs after holes"
        assert os.path.getsize(path) == size, "punch-hole changed the file size"
    finally:
        os.close(fd)


# ------------------------------------------------------------------ d. threads
def test_eight_threads_disjoint_regions(nvmfd, host, tmp_path):
    """8 threads, each on its own fd and its own region (boundaries deliberately inside
    blocks, so neighbours share blocks), writing and reading at random offsets and
    sizes; each keeps a model of its region and checks it as it goes and at the end."""
    size = 64 * MIB
    t = nvmfd.start("ramdisk:64M")
    ctrl, ns, path = connect_one(host, t)
    nthreads, region = 8, 6 * MIB
    skew = [0, 100, 4095, 513, 1, 2048, 777, 3000, 0]
    bounds = [(i * region + skew[i], (i + 1) * region + skew[i + 1]) for i in range(nthreads)]
    models = [None] * nthreads
    errors = []
    start = threading.Barrier(nthreads)

    def worker(i):
        lo, hi = bounds[i]
        rng = random.Random(1000 + i)
        fd = os.open(path, os.O_RDWR)
        try:
            model = bytearray(hd.pread_exact(fd, hi - lo, lo))
            start.wait(timeout=30)
            for step in range(150):
                n = rng.choice([1, 512, 4096, 4096, 8192, 65536, 200000, rng.randint(1, 70000)])
                n = min(n, hi - lo)
                off = rng.randrange(0, hi - lo - n + 1)
                if rng.random() < 0.3:
                    off = 0 if rng.random() < 0.5 else hi - lo - n   # the shared edges
                if rng.random() < 0.65:
                    data = rng.randbytes(n)
                    hd.pwrite_all(fd, data, lo + off)
                    model[off:off + n] = data
                else:
                    got = hd.pread_exact(fd, n, lo + off)
                    if got != bytes(model[off:off + n]):
                        errors.append("thread %d step %d: read %d+%d differs" % (
                            i, step, lo + off, n))
                        return
                if step % 50 == 49:
                    os.fsync(fd)
            if hd.pread_exact(fd, hi - lo, lo) != bytes(model):
                errors.append("thread %d: region %d..%d differs at the end" % (i, lo, hi))
            models[i] = bytes(model)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append("thread %d: %r" % (i, e))
        finally:
            os.close(fd)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(nthreads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not any(th.is_alive() for th in threads), "threads hung"
    assert not errors, "\n".join(errors)
    # A fresh open sees every thread's region as that thread left it.
    fd = os.open(path, os.O_RDONLY)
    try:
        for i, (lo, hi) in enumerate(bounds):
            assert hd.pread_exact(fd, hi - lo, lo) == models[i], \
                "region %d (%d..%d) differs in a fresh read" % (i, lo, hi)
        tail = bounds[-1][1]
        assert hd.pread_exact(fd, size - tail, tail) == bytes(size - tail), \
            "bytes past the last region changed"
    finally:
        os.close(fd)
    assert host.alive()
