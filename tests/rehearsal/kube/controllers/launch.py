"""Exec a container's command so that it dies with the kubelet (run as a script, not imported).

``python -I -S launch.py <parent pid> <argv...>``: asks Linux to SIGKILL this process when its
parent dies (PR_SET_PDEATHSIG), checks the parent is still the one that started it, then
replaces itself with ``argv``. The pid, and so the process group the kubelet signals, stay the
same. This keeps an abruptly killed cluster from leaving pod processes behind.
"""

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def main() -> None:
    parent, argv = int(sys.argv[1]), sys.argv[2:]
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(137)
    try:
        os.execvp(argv[0], argv)
    except OSError as err:
        print(f"exec {argv[0]}: {err.strerror}", file=sys.stderr, flush=True)
        os._exit(128)


if __name__ == "__main__":
    main()
