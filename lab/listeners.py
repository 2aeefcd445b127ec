#!/usr/bin/env python3
"""The organisation's application services, for the lab: TCP listeners (HL7/MLLP, DICOM, SMTP
submission, RDP) and a UDP echo. A listener echoes what it is sent, so a test can tell whether
an idle session survived a firewall; a port given as PORT=CODE is also an HL7 interface engine:
a message in MLLP framing (0x0B ... 0x1C 0x0D) gets an acknowledgement with MSA-1 = CODE (AA
accepts, AR rejects) and MSA-2 = the message's control ID, as an engine's ACK does.
Usage: listeners.py TCP_PORT[=CODE],... UDP_PORT,..."""
import selectors
import socket
import sys

sel = selectors.DefaultSelector()
VT, FS, CR = b"\x0b", b"\x1c", b"\x0d"


def listen_tcp(spec):
    port, _, code = spec.partition("=")
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", int(port)))
    s.listen(512)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, ("accept", code))


def listen_udp(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, ("udp", ""))


def hl7_ack(message, code):
    """An ACK for an HL7 v2 message: MSH with sender and receiver swapped, then MSA."""
    segments = [s for s in message.replace(b"\n", b"\r").split(b"\r") if s]
    msh = segments[0] if segments and segments[0].startswith(b"MSH") else b"MSH|^~\\&"
    sep = msh[3:4] or b"|"
    f = msh.split(sep) + [b""] * 12
    control = f[9]
    out = sep.join([b"MSH", f[1], f[4], f[5], f[2], f[3], f[6], b"", b"ACK", b"ACK" + control,
                    f[10] or b"T", f[11] or b"2.5.1"])
    text = b"" if code == b"AA" else b"message rejected by the lab's interface engine"
    return VT + out + CR + sep.join([b"MSA", code, control, text]) + CR + FS + CR


def main():
    for p in filter(None, sys.argv[1].split(",")):
        listen_tcp(p)
    for p in filter(None, sys.argv[2].split(",")):
        listen_udp(int(p))
    pending = {}  # MLLP connections: what arrived of the frame so far
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            kind, code = key.data
            if kind == "accept":
                try:
                    c, _ = s.accept()
                except OSError:
                    continue
                c.setblocking(False)
                sel.register(c, selectors.EVENT_READ, ("conn", code))
            elif kind == "udp":
                try:
                    data, peer = s.recvfrom(65535)
                    s.sendto(data, peer)
                except OSError:
                    pass
            else:
                try:
                    data = s.recv(65535)
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(s)
                    pending.pop(s, None)
                    s.close()
                    continue
                if code and (s in pending or data.startswith(VT)):
                    buf = pending.get(s, b"") + data
                    end = buf.find(FS + CR)
                    if end < 0:
                        pending[s] = buf[-65536:]
                        continue
                    pending.pop(s, None)
                    data = hl7_ack(buf[1:end], code.encode())
                try:
                    s.sendall(data)
                except OSError:
                    pass


if __name__ == "__main__":
    main()
