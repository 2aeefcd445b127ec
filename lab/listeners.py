#!/usr/bin/env python3
"""The organisation's application services, for the lab: TCP echo listeners (HL7/MLLP, DICOM,
SMTP submission, RDP) and a UDP echo. Echoing lets a test tell whether an idle session
survived a firewall. Usage: listeners.py TCP_PORT,... UDP_PORT,..."""
import selectors
import socket
import sys

sel = selectors.DefaultSelector()


def listen_tcp(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(512)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, "accept")


def listen_udp(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, "udp")


def main():
    for p in filter(None, sys.argv[1].split(",")):
        listen_tcp(int(p))
    for p in filter(None, sys.argv[2].split(",")):
        listen_udp(int(p))
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            if key.data == "accept":
                try:
                    c, _ = s.accept()
                except OSError:
                    continue
                c.setblocking(False)
                sel.register(c, selectors.EVENT_READ, "conn")
            elif key.data == "udp":
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
                if data:
                    try:
                        s.sendall(data)
                    except OSError:
                        pass
                else:
                    sel.unregister(s)
                    s.close()


if __name__ == "__main__":
    main()
