# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmf developers
"""A small NVMe/TCP host for end-to-end tests: sockets and struct, nothing else.

It speaks enough of NVMe/TCP 1.0 and NVMe over Fabrics to drive a target the
way a real host does (ICReq/ICResp with digests, Fabrics Connect, Property
Get/Set, controller enable, admin and I/O commands with in-capsule data or
R2T/H2CData, many commands in flight), and it can send arbitrary bytes so
tests can break the rules on purpose and read the C2HTermReq that follows.

Status values are the 15-bit NVMe status field without the phase bit:
SC | SCT << 8 | CRD << 11 | M << 13 | DNR << 14 (as nvme-cli prints, e.g. 0x4184).
"""

import os
import select
import socket
import struct
import time
import uuid

# ----------------------------------------------------------------- CRC32C
# Castagnoli polynomial, reflected (0x82F63B78); NVMe/TCP digests are the
# CRC32C of the bytes, sent little-endian.

_POLY = 0x82F63B78


def _make_tables():
    t0 = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ _POLY if c & 1 else c >> 1
        t0.append(c)
    tables = [t0]
    for _ in range(7):
        prev = tables[-1]
        tables.append([(prev[i] >> 8) ^ t0[prev[i] & 0xFF] for i in range(256)])
    return tables


_T = _make_tables()


def crc32c(data, crc=0):
    """CRC32C of data (bytes-like), continuing from a previous crc value."""
    t0, t1, t2, t3, t4, t5, t6, t7 = _T
    crc ^= 0xFFFFFFFF
    mv = memoryview(data).cast("B")
    n = len(mv)
    n8 = n - n % 8
    # Slicing by 8: eight table lookups per 8 bytes of input.
    if n8:
        for a, b in struct.iter_unpack("<II", mv[:n8]):
            a ^= crc
            crc = (t7[a & 0xFF] ^ t6[(a >> 8) & 0xFF] ^ t5[(a >> 16) & 0xFF] ^
                   t4[a >> 24] ^ t3[b & 0xFF] ^ t2[(b >> 8) & 0xFF] ^
                   t1[(b >> 16) & 0xFF] ^ t0[b >> 24])
    for byte in mv[n8:]:
        crc = (crc >> 8) ^ t0[(crc ^ byte) & 0xFF]
    return crc ^ 0xFFFFFFFF


def crc32c_bytes(data):
    return struct.pack("<I", crc32c(data))


assert crc32c(b"123456789") == 0xE3069283

# ---------------------------------------------------------------- constants

PDU_ICREQ = 0x00
PDU_ICRESP = 0x01
PDU_H2C_TERM_REQ = 0x02
PDU_C2H_TERM_REQ = 0x03
PDU_CAPSULE_CMD = 0x04
PDU_CAPSULE_RESP = 0x05
PDU_H2C_DATA = 0x06
PDU_C2H_DATA = 0x07
PDU_R2T = 0x09

F_HDGST = 0x01
F_DDGST = 0x02
F_DATA_LAST = 0x04
F_DATA_SUCCESS = 0x08

FES_INVALID_HEADER_FIELD = 0x01
FES_PDU_SEQUENCE_ERROR = 0x02
FES_HEADER_DIGEST_ERROR = 0x03
FES_DATA_OUT_OF_RANGE = 0x04
FES_DATA_LIMIT_EXCEEDED = 0x05
FES_UNSUPPORTED_PARAMETER = 0x06

HLEN = {PDU_ICREQ: 128, PDU_ICRESP: 128, PDU_H2C_TERM_REQ: 24, PDU_C2H_TERM_REQ: 24,
        PDU_CAPSULE_CMD: 72, PDU_CAPSULE_RESP: 24, PDU_H2C_DATA: 24,
        PDU_C2H_DATA: 24, PDU_R2T: 24}

DISCOVERY_NQN = "nqn.2014-08.org.nvmexpress.discovery"
CNTLID_DYNAMIC = 0xFFFF

# Admin opcodes
ADM_GET_LOG_PAGE = 0x02
ADM_IDENTIFY = 0x06
ADM_SET_FEATURES = 0x09
ADM_GET_FEATURES = 0x0A
ADM_KEEP_ALIVE = 0x18
OPC_FABRICS = 0x7F
# Fabrics command types
FCT_PROPERTY_SET = 0x00
FCT_CONNECT = 0x01
FCT_PROPERTY_GET = 0x04
FCT_DISCONNECT = 0x08
# I/O opcodes
IO_FLUSH = 0x00
IO_WRITE = 0x01
IO_READ = 0x02
IO_WRITE_ZEROES = 0x08
IO_DSM = 0x09

RW_FUA = 1 << 30
DSM_DEALLOCATE = 1 << 2

# Registers
REG_CAP = 0x00
REG_VS = 0x08
REG_CC = 0x14
REG_CSTS = 0x1C
CC_EN = 1
CSTS_RDY = 1
CSTS_CFS = 2

# Features
FEAT_NUM_QUEUES = 0x07
FEAT_KATO = 0x0F

# Log pages
LOG_ERROR = 0x01
LOG_SMART = 0x02
LOG_DISCOVERY = 0x70

# Status values (15-bit field without phase)
SC_SUCCESS = 0x0000
SC_INVALID_OPCODE = 0x0001
SC_INVALID_FIELD = 0x0002
SC_INVALID_NAMESPACE = 0x000B
SC_COMMAND_SEQUENCE_ERROR = 0x000C
SC_TRANSIENT_TRANSPORT_ERROR = 0x0022
SC_LBA_OUT_OF_RANGE = 0x0080
SC_INVALID_LOG_PAGE = 0x0109
SC_CONNECT_INVALID_PARAMETERS = 0x0182
SC_CONNECT_INVALID_HOST = 0x0184
DNR = 0x4000

SGL_ICD = 0x01          # data block, offset: data is in the capsule
SGL_TRANSPORT = 0x5A    # transport data block: C2HData or R2T + H2CData
PSDT_SGL = 0x40         # flags: PSDT = 01b (SGL, contiguous metadata)


def sc(status):
    """Status code (bits 7:0)."""
    return status & 0xFF


def sct(status):
    """Status code type (bits 10:8)."""
    return (status >> 8) & 0x7


def dnr(status):
    return bool(status & DNR)


# ---------------------------------------------------------------- errors

class NvmeTcpError(Exception):
    pass


class ConnectionClosed(NvmeTcpError):
    pass


class TermReq(NvmeTcpError):
    """The target sent a C2HTermReq: the connection is over."""

    def __init__(self, pdu_type, fes, fei, data):
        super().__init__("%s FES 0x%02x FEI %d" % (
            "C2HTermReq" if pdu_type == PDU_C2H_TERM_REQ else "TermReq(0x%x)" % pdu_type,
            fes, fei))
        self.pdu_type = pdu_type
        self.fes = fes
        self.fei = fei
        self.data = data


class NvmeError(NvmeTcpError):
    def __init__(self, what, cqe):
        super().__init__("%s failed: status 0x%04x" % (what, cqe.status))
        self.cqe = cqe
        self.status = cqe.status


class Completion:
    __slots__ = ("cdw0", "cdw1", "sqhd", "sqid", "cid", "status", "data")

    def __init__(self, cdw0, cdw1, sqhd, sqid, cid, status, data=None):
        self.cdw0, self.cdw1, self.sqhd, self.sqid = cdw0, cdw1, sqhd, sqid
        self.cid, self.status, self.data = cid, status, data

    @property
    def value(self):
        return self.cdw0 | (self.cdw1 << 32)

    def __repr__(self):
        return "Completion(cid=%d status=0x%04x cdw0=0x%x)" % (self.cid, self.status, self.cdw0)


def sqe(opc, nsid=0, cdw10=0, cdw11=0, cdw12=0, cdw13=0, cdw14=0, cdw15=0, flags=PSDT_SGL):
    """A 64-byte submission queue entry; CID and SGL are filled at submission."""
    b = bytearray(64)
    struct.pack_into("<BBHI", b, 0, opc, flags, 0, nsid)
    struct.pack_into("<6I", b, 40, cdw10, cdw11, cdw12, cdw13, cdw14, cdw15)
    return b


def fabrics_sqe(fctype):
    b = bytearray(64)
    b[0] = OPC_FABRICS
    b[1] = PSDT_SGL
    b[4] = fctype
    return b


class _Cmd:
    __slots__ = ("cid", "data_out", "read_buf", "c2h_got", "cqe", "done", "data_corrupt",
                 "opc")

    def __init__(self, cid, data_out, read_len, opc):
        self.cid = cid
        self.data_out = data_out
        self.read_buf = bytearray(read_len) if read_len else None
        self.c2h_got = 0
        self.cqe = None
        self.done = False
        self.data_corrupt = False
        self.opc = opc


# ---------------------------------------------------------------- a queue

class Queue:
    """One NVMe/TCP connection: the admin queue or an I/O queue."""

    def __init__(self, host, port, hdgst=False, ddgst=False, timeout=5.0, hpda=0,
                 handshake=True):
        self.host, self.port = host, port
        self.timeout = timeout
        self.want_hdgst, self.want_ddgst = hdgst, ddgst
        self.hpda = hpda
        self.hdgst = self.ddgst = False
        self.cpda = 0
        self.maxh2cdata = None
        self.icd_size = 8192       # admin queue default; set from IOCCSZ for I/O
        self.qid = None
        self.cntlid = None
        self.sqsize = None
        self.cmds = {}
        self.stats = {"r2t": 0, "h2c": 0, "c2h": 0, "in_capsule": 0}
        self.free_cids = list(range(1024))
        self.rbuf = bytearray()
        self.sent_heads = []
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(timeout)
        if handshake:
            self.icreq()

    # -------------------------------------------------- raw socket access
    @property
    def local_port(self):
        return self.sock.getsockname()[1]

    def send_raw(self, data):
        data = bytes(data)
        self.sent_heads.append(data[:256])
        del self.sent_heads[:-8]
        self.sock.sendall(data)

    def sent_pdus_contain(self, head):
        """Whether head is the start of one of the last PDUs sent (for TermReq data)."""
        return any(s.startswith(bytes(head)) for s in self.sent_heads)

    def _fill(self, n, timeout=None):
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while len(self.rbuf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("timed out waiting for %d bytes" % (n - len(self.rbuf)))
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(max(65536, n - len(self.rbuf)))
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                raise ConnectionClosed("connection closed by the target (%d of %d bytes)"
                                       % (len(self.rbuf), n))
            self.rbuf += chunk

    def recv_exact(self, n, timeout=None):
        self._fill(n, timeout)
        out = bytes(self.rbuf[:n])
        del self.rbuf[:n]
        return out

    def recv_pdu(self, timeout=None):
        """Reads one whole PDU: (pdu_type, flags, hlen, pdo, plen, raw bytes)."""
        self._fill(8, timeout)
        ptype, flags, hlen, pdo, plen = struct.unpack_from("<BBBBI", self.rbuf, 0)
        if plen < 8 or plen > 64 * 1024 * 1024:
            raise NvmeTcpError("target sent a PDU with PLEN %d" % plen)
        raw = self.recv_exact(plen, timeout)
        return ptype, flags, hlen, pdo, plen, raw

    def is_closed(self, timeout=2.0):
        """True once the target has closed the connection (EOF or reset)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                return False
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                return True
            except socket.timeout:
                continue
            if not chunk:
                return True
            self.rbuf += chunk

    def expect_term_req(self, timeout=3.0):
        """Reads PDUs until a C2HTermReq arrives; returns it (TermReq)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("no C2HTermReq")
            ptype, flags, hlen, pdo, plen, raw = self.recv_pdu(left)
            if ptype in (PDU_C2H_TERM_REQ, PDU_H2C_TERM_REQ):
                fes, = struct.unpack_from("<H", raw, 8)
                fei, = struct.unpack_from("<I", raw, 10)
                return TermReq(ptype, fes, fei, raw[24:])

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    # -------------------------------------------------------- handshake
    def icreq_bytes(self, pfv=0, hpda=None, dgst=None, maxr2t=0):
        if hpda is None:
            hpda = self.hpda
        if dgst is None:
            dgst = (1 if self.want_hdgst else 0) | (2 if self.want_ddgst else 0)
        b = bytearray(128)
        struct.pack_into("<BBBBIHBBI", b, 0, PDU_ICREQ, 0, 128, 0, 128, pfv, hpda, dgst,
                         maxr2t)
        return b

    def icreq(self):
        self.send_raw(self.icreq_bytes())
        ptype, flags, hlen, pdo, plen, raw = self.recv_pdu()
        if ptype == PDU_C2H_TERM_REQ:
            fes, = struct.unpack_from("<H", raw, 8)
            fei, = struct.unpack_from("<I", raw, 10)
            raise TermReq(ptype, fes, fei, raw[24:])
        if ptype != PDU_ICRESP or hlen != 128 or plen != 128:
            raise NvmeTcpError("expected ICResp, got type 0x%x hlen %d plen %d" %
                               (ptype, hlen, plen))
        pfv, cpda, dgst, maxh2cdata = struct.unpack_from("<HBBI", raw, 8)
        if pfv != 0:
            raise NvmeTcpError("ICResp PFV %d" % pfv)
        if (dgst & 1 and not self.want_hdgst) or (dgst & 2 and not self.want_ddgst):
            raise NvmeTcpError("ICResp enabled digests 0x%x we did not ask for" % dgst)
        if maxh2cdata < 4096 or maxh2cdata % 4:
            raise NvmeTcpError("ICResp MAXH2CDATA %d invalid" % maxh2cdata)
        self.hdgst = bool(dgst & 1)
        self.ddgst = bool(dgst & 2)
        self.cpda = cpda
        self.maxh2cdata = maxh2cdata
        return self

    # ------------------------------------------------------ PDU builders
    def build_pdu(self, ptype, header_rest, data=b"", flags=0, hdgst=None, ddgst=None,
                  corrupt_hdgst=False, corrupt_ddgst=False, pdo=None, plen=None):
        """A data-capable PDU (CapsuleCmd, H2CData): header, digests, padding, data.
        pdo/plen: values written into the header as they are (rule breaking), the
        bytes sent stay the same."""
        hdgst = self.hdgst if hdgst is None else hdgst
        ddgst = self.ddgst if ddgst is None else ddgst
        forced_pdo, forced_plen = pdo, plen
        hlen = 8 + len(header_rest)
        if hdgst:
            flags |= F_HDGST
        hend = hlen + (4 if hdgst else 0)
        if data:
            align = (self.cpda + 1) * 4
            pdo = (hend + align - 1) // align * align
            plen = pdo + len(data) + (4 if ddgst else 0)
            if ddgst:
                flags |= F_DDGST
        else:
            pdo = 0
            plen = hend
        hdr = struct.pack("<BBBBI", ptype, flags, hlen,
                          pdo if forced_pdo is None else forced_pdo,
                          plen if forced_plen is None else forced_plen) + bytes(header_rest)
        out = bytearray(hdr)
        if hdgst:
            d = crc32c(hdr)
            if corrupt_hdgst:
                d ^= 0x1
            out += struct.pack("<I", d)
        if data:
            out += bytes(pdo - hend)
            out += data
            if ddgst:
                d = crc32c(data)
                if corrupt_ddgst:
                    d ^= 0x80000000
                out += struct.pack("<I", d)
        return out

    def capsule_bytes(self, cmd, data=b"", **kw):
        return self.build_pdu(PDU_CAPSULE_CMD, cmd, data, **kw)

    def h2c_bytes(self, cccid, ttag, datao, data, last, **kw):
        rest = struct.pack("<HHII4x", cccid, ttag, datao, len(data))
        return self.build_pdu(PDU_H2C_DATA, rest, data,
                              flags=F_DATA_LAST if last else 0, **kw)

    # ------------------------------------------------------ submission
    def submit(self, cmd, data_out=None, read_len=0, in_capsule=None, corrupt_ddgst=False,
               pdo=None):
        """Sends a command. data_out: bytes to the controller, in the capsule when
        they fit in_capsule/icd_size, else through R2T. read_len: bytes expected back.
        pdo: the CapsuleCmd header's PDO field forced to this value.
        Returns the CID."""
        if not self.free_cids:
            raise NvmeTcpError("no free command identifier")
        cid = self.free_cids.pop(0)
        cmd = bytearray(cmd)
        struct.pack_into("<H", cmd, 2, cid)
        opc = cmd[0]
        data = b""
        if data_out is not None and len(data_out) > 0:
            length = len(data_out)
            if in_capsule is None:
                in_capsule = length <= self.icd_size
            if in_capsule:
                struct.pack_into("<QI3xB", cmd, 24, 0, length, SGL_ICD)
                data = data_out
                self.stats["in_capsule"] += 1
            else:
                struct.pack_into("<QI3xB", cmd, 24, 0, length, SGL_TRANSPORT)
        else:
            struct.pack_into("<QI3xB", cmd, 24, 0, read_len, SGL_TRANSPORT)
        self.cmds[cid] = _Cmd(cid, data_out, read_len, opc)
        self.send_raw(self.capsule_bytes(cmd, data, corrupt_ddgst=corrupt_ddgst, pdo=pdo))
        return cid

    def _send_h2c(self, c, ttag, r2to, r2tl):
        if c.data_out is None or r2to + r2tl > len(c.data_out):
            raise NvmeTcpError("R2T (offset %d, %d bytes) outside command %d's data" %
                               (r2to, r2tl, c.cid))
        mv = memoryview(c.data_out)
        off, end = r2to, r2to + r2tl
        chunks = []
        while off < end:
            n = min(self.maxh2cdata, end - off)
            chunks.append(self.h2c_bytes(c.cid, ttag, off, mv[off:off + n], off + n == end))
            off += n
        self.stats["h2c"] += len(chunks)
        self.send_raw(b"".join(bytes(ch) for ch in chunks))

    def _check_hdgst(self, raw, hlen, flags):
        if self.hdgst:
            if not flags & F_HDGST:
                raise NvmeTcpError("PDU type 0x%x without header digest" % raw[0])
            want, = struct.unpack_from("<I", raw, hlen)
            if crc32c(raw[:hlen]) != want:
                raise NvmeTcpError("header digest mismatch from the target")

    def process_one(self, timeout=None):
        """Reads and handles one PDU from the target."""
        ptype, flags, hlen, pdo, plen, raw = self.recv_pdu(timeout)
        if ptype in (PDU_C2H_TERM_REQ, PDU_H2C_TERM_REQ):
            fes, = struct.unpack_from("<H", raw, 8)
            fei, = struct.unpack_from("<I", raw, 10)
            raise TermReq(ptype, fes, fei, raw[24:])
        if ptype not in (PDU_CAPSULE_RESP, PDU_C2H_DATA, PDU_R2T) or hlen != HLEN[ptype]:
            raise NvmeTcpError("unexpected PDU type 0x%x hlen %d" % (ptype, hlen))
        self._check_hdgst(raw, hlen, flags)
        if ptype == PDU_CAPSULE_RESP:
            cdw0, cdw1, sqhd, sqid, cid, status = struct.unpack_from("<IIHHHH", raw, 8)
            c = self.cmds.get(cid)
            if c is None or c.done:
                raise NvmeTcpError("response for unknown CID %d" % cid)
            c.cqe = Completion(cdw0, cdw1, sqhd, sqid, cid, status >> 1)
            c.done = True
        elif ptype == PDU_R2T:
            cccid, ttag, r2to, r2tl = struct.unpack_from("<HHII", raw, 8)
            c = self.cmds.get(cccid)
            if c is None or c.done:
                raise NvmeTcpError("R2T for unknown CID %d" % cccid)
            self.stats["r2t"] += 1
            self._send_h2c(c, ttag, r2to, r2tl)
        else:
            cccid, datao, datal = struct.unpack_from("<H2xII", raw, 8)
            c = self.cmds.get(cccid)
            if c is None or c.done or c.read_buf is None:
                raise NvmeTcpError("C2HData for unknown CID %d" % cccid)
            if pdo == 0:
                raise NvmeTcpError("C2HData without data")
            if pdo % ((self.hpda + 1) * 4) or pdo < hlen + (4 if self.hdgst else 0):
                raise NvmeTcpError("C2HData PDO %d breaks HPDA %d (alignment %d)" %
                                   (pdo, self.hpda, (self.hpda + 1) * 4))
            dd = 4 if flags & F_DDGST else 0
            if bool(dd) != self.ddgst:
                raise NvmeTcpError("C2HData data digest flag against the negotiated one")
            data = raw[pdo:plen - dd]
            if len(data) != datal or datao + datal > len(c.read_buf):
                raise NvmeTcpError("C2HData offset %d length %d (PDU %d) outside %d" %
                                   (datao, datal, len(data), len(c.read_buf)))
            if dd:
                want, = struct.unpack_from("<I", raw, plen - 4)
                if crc32c(data) != want:
                    c.data_corrupt = True
            c.read_buf[datao:datao + datal] = data
            self.stats["c2h"] += 1
            c.c2h_got += datal
            if flags & F_DATA_SUCCESS:
                if not flags & F_DATA_LAST:
                    raise NvmeTcpError("C2HData SUCCESS without LAST")
                c.cqe = Completion(0, 0, 0, self.qid or 0, cccid, 0)
                c.done = True

    def wait(self, cid, timeout=None):
        """Drives the connection until command cid completes; returns its Completion."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        c = self.cmds[cid]
        while not c.done:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("command %d (opcode 0x%02x) did not complete" %
                                     (cid, c.opc))
            self.process_one(left)
        del self.cmds[cid]
        self.free_cids.append(cid)
        if c.data_corrupt:
            raise NvmeTcpError("C2HData data digest mismatch for CID %d" % cid)
        if (c.opc == IO_READ and self.qid and c.cqe.status == 0 and
                c.c2h_got != len(c.read_buf)):
            raise NvmeTcpError("Read CID %d succeeded with %d of %d bytes" %
                               (cid, c.c2h_got, len(c.read_buf)))
        c.cqe.data = bytes(c.read_buf) if c.read_buf is not None else None
        return c.cqe

    def wait_all(self, cids, timeout=None):
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        out = {}
        pending = list(cids)
        while pending:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("%d commands did not complete" % len(pending))
            still = []
            for cid in pending:
                if self.cmds[cid].done:
                    out[cid] = self.wait(cid)
                else:
                    still.append(cid)
            pending = still
            if pending:
                self.process_one(left)
        return [out[c] for c in cids]

    def execute(self, cmd, data_out=None, read_len=0, check=None, timeout=None, **kw):
        cid = self.submit(cmd, data_out, read_len, **kw)
        cqe = self.wait(cid, timeout)
        if check and cqe.status != 0:
            raise NvmeError(check, cqe)
        return cqe

    # --------------------------------------------------------- fabrics
    def connect(self, subnqn, hostnqn, hostid, qid=0, sqsize=31, kato=0, cntlid=CNTLID_DYNAMIC,
                cattr=0, check=False):
        cmd = fabrics_sqe(FCT_CONNECT)
        struct.pack_into("<HHHBxI", cmd, 40, 0, qid, sqsize, cattr, kato)
        data = bytearray(1024)
        data[0:16] = hostid
        struct.pack_into("<H", data, 16, cntlid)
        sn = subnqn.encode()
        hn = hostnqn.encode()
        data[256:256 + len(sn)] = sn
        data[512:512 + len(hn)] = hn
        cqe = self.execute(cmd, bytes(data), in_capsule=True)
        if check and cqe.status != 0:
            raise NvmeError("Connect", cqe)
        if cqe.status == 0:
            self.qid = qid
            self.sqsize = sqsize
            self.cntlid = cqe.cdw0 & 0xFFFF
        return cqe

    def property_get(self, ofst, eight=False):
        cmd = fabrics_sqe(FCT_PROPERTY_GET)
        struct.pack_into("<B3xI", cmd, 40, 1 if eight else 0, ofst)
        cqe = self.execute(cmd, check="Property Get 0x%x" % ofst)
        return cqe.value if eight else cqe.cdw0

    def property_set(self, ofst, value, eight=False):
        cmd = fabrics_sqe(FCT_PROPERTY_SET)
        struct.pack_into("<B3xIQ", cmd, 40, 1 if eight else 0, ofst, value)
        return self.execute(cmd, check="Property Set 0x%x" % ofst)

    def enable(self, timeout=2.0):
        """CC.EN = 1 with IOSQES 6 and IOCQES 4, then waits for CSTS.RDY."""
        self.property_set(REG_CC, CC_EN | (6 << 16) | (4 << 20))
        deadline = time.monotonic() + timeout
        while True:
            csts = self.property_get(REG_CSTS)
            if csts & CSTS_CFS:
                raise NvmeTcpError("controller fatal status (CSTS 0x%x)" % csts)
            if csts & CSTS_RDY:
                return csts
            if time.monotonic() > deadline:
                raise NvmeTcpError("CSTS.RDY not set within %.1f s" % timeout)
            time.sleep(0.01)

    def disconnect(self):
        return self.execute(fabrics_sqe(FCT_DISCONNECT))

    # ----------------------------------------------------------- admin
    def identify(self, cns, nsid=0, cntid=0, csi=0, check=True):
        cmd = sqe(ADM_IDENTIFY, nsid=nsid, cdw10=cns | (cntid << 16), cdw11=csi << 24)
        return self.execute(cmd, read_len=4096, check="Identify CNS %d" % cns if check else None)

    def get_log_page(self, lid, length, offset=0, nsid=0xFFFFFFFF, lsp=0, check=False):
        numd = length // 4 - 1
        cmd = sqe(ADM_GET_LOG_PAGE, nsid=nsid,
                  cdw10=lid | (lsp << 8) | ((numd & 0xFFFF) << 16),
                  cdw11=numd >> 16, cdw12=offset & 0xFFFFFFFF, cdw13=offset >> 32)
        return self.execute(cmd, read_len=length,
                            check="Get Log Page 0x%x" % lid if check else None)

    def set_features(self, fid, cdw11, check=False):
        return self.execute(sqe(ADM_SET_FEATURES, cdw10=fid, cdw11=cdw11),
                            check="Set Features 0x%x" % fid if check else None)

    def get_features(self, fid, check=False):
        return self.execute(sqe(ADM_GET_FEATURES, cdw10=fid),
                            check="Get Features 0x%x" % fid if check else None)

    def keep_alive(self):
        return self.execute(sqe(ADM_KEEP_ALIVE), check="Keep Alive")

    # ------------------------------------------------------------- I/O
    def write_cmd(self, nsid, slba, nblocks, fua=False):
        return sqe(IO_WRITE, nsid=nsid, cdw10=slba & 0xFFFFFFFF, cdw11=slba >> 32,
                   cdw12=((nblocks - 1) & 0xFFFF) | (RW_FUA if fua else 0))

    def read_cmd(self, nsid, slba, nblocks):
        return sqe(IO_READ, nsid=nsid, cdw10=slba & 0xFFFFFFFF, cdw11=slba >> 32,
                   cdw12=(nblocks - 1) & 0xFFFF)

    def write(self, nsid, slba, data, block_size=512, fua=False, in_capsule=None,
              check=True):
        cmd = self.write_cmd(nsid, slba, len(data) // block_size, fua)
        return self.execute(cmd, data, in_capsule=in_capsule,
                            check="Write" if check else None)

    def read(self, nsid, slba, nblocks, block_size=512, check=True):
        cmd = self.read_cmd(nsid, slba, nblocks)
        cqe = self.execute(cmd, read_len=nblocks * block_size,
                           check="Read" if check else None)
        return cqe.data if cqe.status == 0 else cqe

    def flush(self, nsid):
        return self.execute(sqe(IO_FLUSH, nsid=nsid), check="Flush")

    def write_zeroes(self, nsid, slba, nblocks):
        return self.execute(sqe(IO_WRITE_ZEROES, nsid=nsid, cdw10=slba & 0xFFFFFFFF,
                                cdw11=slba >> 32, cdw12=(nblocks - 1) & 0xFFFF),
                            check="Write Zeroes")

    def deallocate(self, nsid, ranges):
        data = b"".join(struct.pack("<IIQ", 0, nlb, slba) for slba, nlb in ranges)
        return self.execute(sqe(IO_DSM, nsid=nsid, cdw10=len(ranges) - 1,
                                cdw11=DSM_DEALLOCATE), data, check="Dataset Management")


# ------------------------------------------------------------- a controller

def new_hostid():
    return uuid.uuid4().bytes


def host_nqn(hostid=None):
    return "nqn.2014-08.org.nvmexpress:uuid:%s" % uuid.UUID(bytes=hostid or new_hostid())


class Controller:
    """An association: the admin queue, then I/O queues on demand."""

    def __init__(self, host, port, subnqn, hostnqn=None, hostid=None, kato=0, hdgst=False,
                 ddgst=False, sqsize=31, enable=True, timeout=5.0, hpda=0):
        self.host, self.port, self.subnqn = host, port, subnqn
        self.hpda = hpda
        self.hostid = hostid or new_hostid()
        self.hostnqn = host_nqn(self.hostid) if hostnqn is None else hostnqn
        self.hdgst, self.ddgst, self.timeout = hdgst, ddgst, timeout
        self.io = []
        self.admin = Queue(host, port, hdgst, ddgst, timeout, hpda=hpda)
        self.admin.connect(subnqn, self.hostnqn, self.hostid, qid=0, sqsize=sqsize, kato=kato,
                           check=True)
        self.cntlid = self.admin.cntlid
        self.idctrl = None
        if enable:
            self.admin.enable()

    def identify_controller(self):
        self.idctrl = parse_identify_controller(self.admin.identify(1).data)
        return self.idctrl

    def set_num_queues(self, n):
        cqe = self.admin.set_features(FEAT_NUM_QUEUES, ((n - 1) & 0xFFFF) | ((n - 1) << 16),
                                      check=True)
        return (cqe.cdw0 & 0xFFFF) + 1, (cqe.cdw0 >> 16) + 1

    def connect_io(self, n=1, sqsize=127, disable_sq_fc=False):
        if self.idctrl is None:
            self.identify_controller()
        granted = self.set_num_queues(n)
        assert min(granted) >= n, "asked for %d I/O queues, got %s" % (n, granted)
        for qid in range(1, n + 1):
            q = Queue(self.host, self.port, self.hdgst, self.ddgst, self.timeout,
                      hpda=self.hpda)
            q.connect(self.subnqn, self.hostnqn, self.hostid, qid=qid, sqsize=sqsize,
                      cntlid=self.cntlid, cattr=4 if disable_sq_fc else 0, check=True)
            q.icd_size = max(0, self.idctrl["ioccsz"] * 16 - 64)
            q.stats = dict.fromkeys(q.stats, 0)     # count I/O only, not Connect
            self.io.append(q)
        return self.io

    def close(self):
        for q in self.io + [self.admin]:
            q.close()


# ------------------------------------------------------------------ parsers

def _str(b):
    return bytes(b).split(b"\0", 1)[0].decode(errors="replace").rstrip()


def parse_identify_controller(d):
    return {
        "vid": struct.unpack_from("<H", d, 0)[0],
        "sn": _str(d[4:24]),
        "mn": _str(d[24:64]),
        "fr": _str(d[64:72]),
        "mdts": d[77],
        "cntlid": struct.unpack_from("<H", d, 78)[0],
        "ver": struct.unpack_from("<I", d, 80)[0],
        "cntrltype": d[111],
        "kas": struct.unpack_from("<H", d, 320)[0],
        "sqes": d[512],
        "cqes": d[513],
        "maxcmd": struct.unpack_from("<H", d, 514)[0],
        "nn": struct.unpack_from("<I", d, 516)[0],
        "oncs": struct.unpack_from("<H", d, 520)[0],
        "vwc": d[525],
        "sgls": struct.unpack_from("<I", d, 536)[0],
        "subnqn": _str(d[768:1024]),
        "ioccsz": struct.unpack_from("<I", d, 1792)[0],
        "iorcsz": struct.unpack_from("<I", d, 1796)[0],
        "icdoff": struct.unpack_from("<H", d, 1800)[0],
        "msdbd": d[1803],
    }


def parse_identify_namespace(d):
    flbas = d[26] & 0xF
    lbaf = struct.unpack_from("<HBB", d, 128 + 4 * flbas)
    return {
        "nsze": struct.unpack_from("<Q", d, 0)[0],
        "ncap": struct.unpack_from("<Q", d, 8)[0],
        "nuse": struct.unpack_from("<Q", d, 16)[0],
        "nlbaf": d[25],
        "flbas": d[26],
        "dlfeat": d[33],
        "nguid": bytes(d[104:120]),
        "eui64": bytes(d[120:128]),
        "lbads": lbaf[1],
    }


def parse_ns_descriptors(d):
    out = {}
    off = 0
    while off + 4 <= len(d):
        nidt, nidl = d[off], d[off + 1]
        if nidt == 0:
            break
        out[nidt] = bytes(d[off + 4:off + 4 + nidl])
        off += 4 + nidl
    return out


def parse_discovery_log(d):
    genctr, numrec, recfmt = struct.unpack_from("<QQH", d, 0)
    entries = []
    for i in range(numrec):
        e = d[1024 + i * 1024:2048 + i * 1024]
        if len(e) < 1024:
            break
        entries.append({
            "trtype": e[0], "adrfam": e[1], "subtype": e[2], "treq": e[3],
            "portid": struct.unpack_from("<H", e, 4)[0],
            "cntlid": struct.unpack_from("<H", e, 6)[0],
            "asqsz": struct.unpack_from("<H", e, 8)[0],
            "trsvcid": _str(e[32:64]),
            "subnqn": _str(e[256:512]),
            "traddr": _str(e[512:768]),
            "sectype": e[768],
        })
    return {"genctr": genctr, "numrec": numrec, "recfmt": recfmt, "entries": entries}


def discover(host, port, hostnqn=None, hostid=None):
    """Connects to the discovery controller and reads the whole discovery log."""
    c = Controller(host, port, DISCOVERY_NQN, hostnqn=hostnqn, hostid=hostid)
    try:
        head = c.admin.get_log_page(LOG_DISCOVERY, 1024, nsid=0, check=True).data
        numrec, = struct.unpack_from("<Q", head, 8)
        full = c.admin.get_log_page(LOG_DISCOVERY, 1024 * (1 + numrec), nsid=0,
                                    check=True).data
        return parse_discovery_log(full)
    finally:
        c.close()


def random_bytes(n, seed):
    import random
    return random.Random(seed).randbytes(n)


