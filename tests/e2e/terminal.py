"""Run a command with its stderr on a pseudo-terminal (as a user's shell does), for the tests of
what FOM shows only in a terminal: the progress bars."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import termios
import threading


def on_a_terminal(command: list[str], timeout: float) -> tuple[int, str, str]:
    """Run ``command`` with stderr on a pty; return its status, stdout and what the pty showed."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # 100 columns
    shown: list[bytes] = []

    def read() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the last writer closed the terminal
                return
            if not chunk:
                return
            shown.append(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=slave, text=True)
        os.close(slave)
        slave = -1
        try:
            out, _ = proc.communicate(timeout=timeout)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        reader.join(timeout=10)
    finally:
        if slave != -1:
            os.close(slave)
        os.close(master)
    return proc.returncode, out, b"".join(shown).decode(errors="replace")
