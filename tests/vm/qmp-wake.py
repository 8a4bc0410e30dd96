#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""qmp-wake.py SOCKET: wake a QEMU guest that sleeps in S3.

Asks QEMU's QMP socket for the guest's status; if it is "suspended" (the
guest entered S3), sends system_wakeup.  Prints "woken", or the status
it found ("running", ...).  tests/vm/boot.sh runs it when the guest asks
to be woken (its line "VE: s3: sleeping")."""
import json
import socket
import sys


def main():
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(sys.argv[1])
    f = sock.makefile("rw")

    def reply():
        while True:
            line = f.readline()
            if not line:
                sys.exit("qmp-wake: QEMU closed the socket")
            msg = json.loads(line)
            if "event" in msg:
                continue
            if "error" in msg:
                sys.exit(f"qmp-wake: {msg['error']}")
            return msg

    def execute(cmd):
        f.write(json.dumps({"execute": cmd}) + "\n")
        f.flush()
        return reply().get("return")

    reply()  # the greeting
    execute("qmp_capabilities")
    status = execute("query-status")["status"]
    if status != "suspended":
        print(status)
        return 0
    execute("system_wakeup")
    print("woken")
    return 0


if __name__ == "__main__":
    sys.exit(main())
