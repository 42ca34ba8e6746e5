# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""A namespace backed by a file: what the host writes is what the file holds."""

import os

import nvme_tcp as nt

MIB = 1024 * 1024
SIZE = 8 * MIB


def make_image(path, fill=True):
    with open(path, "wb") as f:
        if fill:
            f.write(nt.random_bytes(SIZE, 42))   # every block allocated
        else:
            f.truncate(SIZE)
    return path


def file_bytes(path, off, n):
    with open(path, "rb") as f:
        f.seek(off)
        return f.read(n)


def test_fua_write_and_flush_reach_the_file(nvmfd, tmp_path):
    img = make_image(tmp_path / "disk.img", fill=False)
    t = nvmfd.start(str(img))
    c = t.controller()
    try:
        (q,) = c.connect_io(1)
        ns = nt.parse_identify_namespace(c.admin.identify(0, nsid=1).data)
        assert ns["nsze"] == SIZE // 512

        data = nt.random_bytes(4096, 1)
        q.write(1, 10, data, fua=True)
        assert file_bytes(img, 10 * 512, 4096) == data, "FUA write not in the file"

        big = nt.random_bytes(256 * 1024, 2)
        q.write(1, 2048, big)
        q.flush(1)
        assert file_bytes(img, 2048 * 512, len(big)) == big, "flushed write not in the file"
        # The last block of the file.
        last = nt.random_bytes(512, 3)
        q.write(1, SIZE // 512 - 1, last, fua=True)
        assert file_bytes(img, SIZE - 512, 512) == last
        assert os.path.getsize(img) == SIZE, "the backing file changed size"
    finally:
        c.close()


def test_write_zeroes_zeroes_the_range(nvmfd, tmp_path):
    img = make_image(tmp_path / "disk.img")
    before = file_bytes(img, 0, SIZE)
    t = nvmfd.start(str(img))
    c = t.controller()
    try:
        (q,) = c.connect_io(1)
        slba, nlb = 1000, 300            # not 4 KiB aligned at either end
        q.write_zeroes(1, slba, nlb)
        q.flush(1)
        after = file_bytes(img, 0, SIZE)
        lo, hi = slba * 512, (slba + nlb) * 512
        assert after[lo:hi] == bytes(hi - lo), "Write Zeroes left data in the range"
        assert after[:lo] == before[:lo], "Write Zeroes touched blocks before the range"
        assert after[hi:] == before[hi:], "Write Zeroes touched blocks after the range"
        assert q.read(1, slba, nlb) == bytes(nlb * 512)
        assert q.read(1, slba - 1, 1) == before[lo - 512:lo]
    finally:
        c.close()


def test_deallocate_punches_a_hole(nvmfd, tmp_path):
    img = make_image(tmp_path / "disk.img")
    os.sync()
    before = file_bytes(img, 0, SIZE)
    blocks_before = os.stat(img).st_blocks
    assert blocks_before >= SIZE // 512, "the image is not fully allocated to start with"
    t = nvmfd.start(str(img))
    c = t.controller()
    try:
        (q,) = c.connect_io(1)
        ns = nt.parse_identify_namespace(c.admin.identify(0, nsid=1).data)
        assert ns["dlfeat"] & 0x7 == 1, "DLFEAT does not promise zeroes after deallocate"
        # Two ranges of 1 MiB and 512 KiB, 4 KiB aligned.
        ranges = [(2048, 2048), (8192, 1024)]
        q.deallocate(1, ranges)
        q.flush(1)
        blocks_after = os.stat(img).st_blocks
        freed = blocks_before - blocks_after
        assert freed >= 2900, "st_blocks %d -> %d: no hole punched" % (blocks_before,
                                                                        blocks_after)
        for slba, nlb in ranges:
            assert q.read(1, slba, nlb) == bytes(nlb * 512)
            assert file_bytes(img, slba * 512, nlb * 512) == bytes(nlb * 512)
        # Neighbours keep their data.
        assert q.read(1, 2047, 1) == before[2047 * 512:2048 * 512]
        assert q.read(1, 4096, 1) == before[4096 * 512:4097 * 512]
        assert os.path.getsize(img) == SIZE
    finally:
        c.close()
