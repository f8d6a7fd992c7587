#!/usr/bin/env python3
"""Prints a free loopback TCP port for a server a script is about to start.

The port is chosen below the kernel's ephemeral range (net.ipv4.ip_local_port_range):
a port taken from that range (by binding to port 0) can be handed to another process's
socket before the server binds it — wrangler and workerd open several on start — and the
server then fails with "address already in use". A port outside the range is never given
out that way; it is checked free by binding it once.
"""

import random
import socket

try:
    with open("/proc/sys/net/ipv4/ip_local_port_range", encoding="ascii") as f:
        ephemeral_low = int(f.read().split()[0])
except (OSError, ValueError, IndexError):
    ephemeral_low = 32768

candidates = list(range(10000, max(ephemeral_low, 10001)))
random.shuffle(candidates)
for port in candidates:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
    print(port)
    break
else:
    raise SystemExit("no free loopback port below the ephemeral range")
