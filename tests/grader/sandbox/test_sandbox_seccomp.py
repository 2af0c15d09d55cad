"""The seccomp filter: well-formed BPF, and it denies inet sockets in a forked process."""

import errno
import os
import socket

import pytest

from grader.sandbox import seccomp


def test_program_jumps_stay_inside_the_program():
    program = seccomp.build_program("x86_64")
    for index, (code, jt, jf, _) in enumerate(program):
        if code & 0x07 == 0x05:  # BPF_JMP
            assert index + 1 + max(jt, jf) < len(program), f"jump out of range at {index}"
    assert program[-1] == (seccomp.RET_K, 0, 0, seccomp.RET_ALLOW)
    assert len(program) < 4096


@pytest.mark.skipif(not seccomp.available(), reason="no filter for this architecture")
def test_filter_denies_inet_sockets_but_not_unix_sockets():
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: install, then report what socket() does
        code = 0
        try:
            import ctypes

            ctypes.CDLL(None).prctl(38, 1, 0, 0, 0)  # no_new_privs
            seccomp.install()
            try:
                socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            except OSError as error:
                code = error.errno
            socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).close()
            os.write(write, str(code).encode())
        finally:
            os._exit(0)
    os.close(write)
    got = os.read(read, 64)
    os.close(read)
    os.waitpid(pid, 0)
    assert got == str(errno.EAFNOSUPPORT).encode()
