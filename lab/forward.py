#!/usr/bin/python3
"""Makes a service inside a lab namespace reachable on the host's loopback, for the demo's
Prometheus and Alertmanager: listens on 127.0.0.1:LOCAL in the namespace this starts in (the
host's), and relays each connection to ADDRESS:PORT inside network namespace NAMESPACE (entered
per connection with setns, by the thread that serves it).

Usage: forward.py LOCAL NAMESPACE ADDRESS PORT"""
import ctypes
import os
import selectors
import socket
import sys
import threading

CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL("libc.so.6", use_errno=True)


def relay(client, namespace, address, port):
    try:
        fd = os.open(f"/run/netns/{namespace}", os.O_RDONLY)
        if libc.setns(fd, CLONE_NEWNET) != 0:  # this thread only
            raise OSError(ctypes.get_errno(), "setns")
        os.close(fd)
        upstream = socket.create_connection((address, port), timeout=10)
    except OSError:
        client.close()
        return
    sel = selectors.DefaultSelector()
    sel.register(client, selectors.EVENT_READ, upstream)
    sel.register(upstream, selectors.EVENT_READ, client)
    try:
        while True:
            for key, _ in sel.select():
                data = key.fileobj.recv(65536)
                if not data:
                    return
                key.data.sendall(data)
    except OSError:
        pass
    finally:
        client.close()
        upstream.close()


def main():
    local, namespace, address, port = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", local))
    server.listen(64)
    while True:
        client, _ = server.accept()
        threading.Thread(target=relay, args=(client, namespace, address, port), daemon=True).start()


if __name__ == "__main__":
    main()
