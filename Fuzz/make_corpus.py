#!/usr/bin/env python3
"""Writes the seed inputs of Fuzz/corpus/ (run from anywhere: python3 Fuzz/make_corpus.py).

Each seed is what ISCSIFuzz reads: one control byte (see the top of
Sources/ISCSIFuzz/ISCSIFuzz.swift), then the bytes an initiator sends on one
connection. PDUs are laid out per RFC 7143 §11; digest fields are written as zeros
and seeds that use digests set control bit 7, which makes the harness fill them in.
"""
import hashlib
import pathlib

CORPUS = pathlib.Path(__file__).resolve().parent / "corpus"

# Control byte bits.
HEADER_DIGEST, DATA_DIGEST, REPAIR_DIGESTS = 0x01, 0x02, 0x80
CONFIG_OPEN, CONFIG_CHAP, CONFIG_DISCOVERY_CHAP, CONFIG_DIGESTS = 0x00, 0x10, 0x20, 0x30

DISK = "iqn.2024-01.org.swiftport.fuzz:disk"
CHAP_TARGET = "iqn.2024-01.org.swiftport.fuzz:chap"
INITIATOR = "iqn.2024-01.org.swiftport.fuzz:initiator"
ISID = 0x4000_0137_0001


def be(value, width):
    return value.to_bytes(width, "big")


def text(*pairs):
    return b"".join(f"{key}={value}".encode() + b"\0" for key, value in pairs)


def pdu(opcode, byte1=0, fields=None, ahs=b"", data=b"", immediate=False, digests=(False, False)):
    """A whole PDU: BHS with `fields` ({offset: bytes}), AHS, digests zeroed, padded data."""
    bhs = bytearray(48)
    bhs[0] = opcode | (0x40 if immediate else 0)
    bhs[1] = byte1
    bhs[4] = len(ahs) // 4
    bhs[5:8] = be(len(data), 3)
    for offset, value in (fields or {}).items():
        bhs[offset:offset + len(value)] = value
    header_digest, data_digest = digests
    out = bytes(bhs) + ahs + (b"\0" * 4 if header_digest else b"")
    out += data + b"\0" * (-len(data) % 4)
    if data and data_digest:
        out += b"\0" * 4
    return out


def login(csg, nsg=None, pairs=(), itt=1, cmdsn=1, continue_=False):
    byte1 = (csg << 2) | (0x80 | nsg if nsg is not None else 0) | (0x40 if continue_ else 0)
    fields = {8: be(ISID, 6), 14: be(0, 2), 16: be(itt, 4), 20: be(1, 2), 24: be(cmdsn, 4), 28: be(0, 4)}
    return pdu(0x03, byte1, fields, data=text(*pairs), immediate=True)


def scsi_command(cdb, data=b"", itt=0x10, edtl=512, write=True, ahs=b"", digests=(False, False)):
    byte1 = 0x80 | (0x20 if write else 0x40) | 0x01  # F, W or R, ATTR=simple
    fields = {8: be(0, 8), 16: be(itt, 4), 20: be(edtl, 4), 24: be(2, 4), 28: be(2, 4), 32: cdb[:16].ljust(16, b"\0")}
    return pdu(0x01, byte1, fields, ahs=ahs, data=data, digests=digests)


def nop_out(data=b"", itt=0x20, digests=(False, False)):
    fields = {8: be(0, 8), 16: be(itt, 4), 20: be(0xFFFF_FFFF, 4), 24: be(3, 4), 28: be(3, 4)}
    return pdu(0x00, 0x80, fields, data=data, immediate=True, digests=digests)


OPERATIONAL = [
    ("HeaderDigest", "None"), ("DataDigest", "None"), ("MaxRecvDataSegmentLength", "65536"),
    ("InitialR2T", "No"), ("ImmediateData", "Yes"), ("MaxBurstLength", "262144"),
    ("FirstBurstLength", "65536"), ("ErrorRecoveryLevel", "0"), ("MaxConnections", "1"),
]
WRITE10 = bytes([0x2A, 0, 0, 0, 0, 0, 0, 0, 1, 0])


def seeds():
    yield "login_open", bytes([CONFIG_OPEN]) + login(0, 1, [
        ("InitiatorName", INITIATOR), ("TargetName", DISK), ("SessionType", "Normal"), ("AuthMethod", "None"),
    ]) + login(1, 3, OPERATIONAL, itt=2) + scsi_command(WRITE10, data=bytes(range(16))) + nop_out()

    # CHAP with the harness's deterministic challenge: identifier 1, challenge bytes 1..16.
    chap_r = hashlib.md5(bytes([1]) + b"alice-secret-12" + bytes(range(1, 17))).hexdigest()
    yield "login_chap", bytes([CONFIG_CHAP]) + login(0, pairs=[
        ("InitiatorName", INITIATOR), ("TargetName", CHAP_TARGET), ("AuthMethod", "CHAP,None"),
    ]) + login(0, pairs=[("CHAP_A", "7,5")]) + login(0, pairs=[("CHAP_A", "5")]) \
        + login(0, 1, [("CHAP_N", "alice"), ("CHAP_R", "0x" + chap_r)]) + login(1, 3, OPERATIONAL)

    # Digests negotiated during login take effect after it, as on a real connection.
    yield "login_digests", bytes([CONFIG_DIGESTS | REPAIR_DIGESTS]) + login(0, 3, [
        ("InitiatorName", INITIATOR), ("TargetName", DISK), ("HeaderDigest", "CRC32C,None"),
        ("DataDigest", "CRC32C"), ("MaxRecvDataSegmentLength", "8192"),
    ]) + nop_out(b"ping", digests=(True, True)) + scsi_command(WRITE10, data=b"\xAB" * 8, digests=(True, True))

    yield "login_continue", bytes([CONFIG_OPEN]) + login(0, continue_=True, pairs=[("InitiatorName", INITIATOR)]) \
        + login(0, 1, [("TargetName", DISK), ("SessionType", "Discovery")])

    extended_cdb = bytes(range(0x80, 0x90))  # CDB bytes 16-31 in an extended-CDB AHS
    ahs = be(len(extended_cdb) + 1, 2) + b"\x01\x00" + extended_cdb
    ahs += b"\0" * (-len(ahs) % 4)
    ahs += be(5, 2) + b"\x02\x00" + be(4096, 4)  # bidirectional read length
    yield "scsi_immediate", bytes([0x0C]) + scsi_command(WRITE10, data=b"immediate data!") \
        + scsi_command(bytes([0x7F, 0, 0, 0, 0, 0, 0, 0x18]), data=b"\x01" * 5, ahs=ahs, itt=0x11)

    yield "nop_out", bytes([0x00]) + nop_out(b"hello")

    yield "nop_out_digests", bytes([HEADER_DIGEST | DATA_DIGEST | REPAIR_DIGESTS]) \
        + nop_out(b"hello", digests=(True, True)) + nop_out(digests=(True, True))

    yield "text_sendtargets", bytes([0x00]) + pdu(0x04, 0x80, {16: be(5, 4), 20: be(0xFFFF_FFFF, 4)},
                                                 data=text(("SendTargets", "All")), immediate=True)

    # Target-side PDUs: the framer decodes every opcode.
    status = {24: be(7, 4), 28: be(8, 4), 32: be(40, 4)}
    yield "target_pdus", bytes([0x00]) \
        + pdu(0x25, 0x81 | 0x02, {**status, 16: be(0x10, 4), 44: be(12, 4), 3: b"\x00"}, data=b"read data") \
        + pdu(0x21, 0x80, {**status, 16: be(0x11, 4)}, data=be(4, 2) + b"\x70\x00\x05\x00") \
        + pdu(0x31, 0x80, {**status, 16: be(0x12, 4), 20: be(9, 4), 44: be(4096, 4)}) \
        + pdu(0x3F, 0x80, {**status, 2: b"\x09"}, data=bytes(48)) \
        + pdu(0x23, 0x87, {**status, 8: be(ISID, 6), 14: be(1, 2)}, data=text(("TargetPortalGroupTag", "1")))


def login_response(csg, nsg=None, pairs=(), statsn=0, tsih=0, itt=0):
    byte1 = (csg << 2) | (0x80 | nsg if nsg is not None else 0)
    fields = {8: be(ISID, 6), 14: be(tsih, 2), 16: be(itt, 4), 24: be(statsn, 4), 28: be(1, 4), 32: be(1, 4)}
    return pdu(0x23, byte1, fields, data=text(*pairs))


def initiator_seeds():
    # Login Responses for the harness's initiator-side login (configuration 0: normal
    # session to DISK, AuthMethod=None), answering every key it offers.
    yield "initiator_login", bytes([CONFIG_OPEN]) + login_response(0, 1, [
        ("AuthMethod", "None"), ("TargetPortalGroupTag", "1"), ("TargetAlias", "disk"),
    ]) + login_response(1, 3, [
        ("HeaderDigest", "None"), ("DataDigest", "None"), ("MaxConnections", "1"), ("InitialR2T", "Yes"),
        ("ImmediateData", "Yes"), ("MaxRecvDataSegmentLength", "262144"), ("MaxBurstLength", "262144"),
        ("FirstBurstLength", "65536"), ("DefaultTime2Wait", "2"), ("DefaultTime2Retain", "20"),
        ("MaxOutstandingR2T", "1"), ("DataPDUInOrder", "Yes"), ("DataSequenceInOrder", "Yes"),
        ("ErrorRecoveryLevel", "0"),
    ], statsn=1, tsih=5)


def main():
    CORPUS.mkdir(exist_ok=True)
    for name, data in [*seeds(), *initiator_seeds()]:
        (CORPUS / f"{name}.bin").write_bytes(data)
        print(f"{name}.bin: {len(data)} bytes")


if __name__ == "__main__":
    main()
