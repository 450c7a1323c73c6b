"""A multi-process server with shared memory, for the replay fixtures: a
parent and WORKERS forked workers (multiprocessing, fork start method) that
share a 64 MiB shared anonymous mapping (what a database's buffer pool is)
and a 16 MiB System V segment, each worker touching all of both, plus a
little private memory of its own. Prints "ready PID PID ..." once every
worker has touched its memory, then sleeps until killed."""
import ctypes
import mmap
import multiprocessing as mp
import os
import sys
import time

WORKERS = int(sys.argv[1]) if len(sys.argv) > 1 else 4
SHARED = 64 << 20
SYSV = 16 << 20
PAGE = 4096

libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
IPC_PRIVATE, IPC_CREAT, IPC_RMID = 0, 0o1000, 0

shmid = libc.shmget(IPC_PRIVATE, SYSV, IPC_CREAT | 0o600)
addr = libc.shmat(shmid, None, 0)
libc.shmctl(shmid, IPC_RMID, None)  # gone when the last process detaches
sysv = (ctypes.c_char * SYSV).from_address(addr)
pool = mmap.mmap(-1, SHARED, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)


def worker(ready):
    for off in range(0, SHARED, PAGE):
        pool[off] = 1
    for off in range(0, SYSV, PAGE):
        sysv[off] = b'\x01'
    private = bytearray(2 << 20)  # a little private memory
    ready.put(os.getpid())
    while True:
        time.sleep(60)
    del private


if __name__ == '__main__':
    mp.set_start_method('fork')
    q = mp.Queue()
    procs = [mp.Process(target=worker, args=(q,)) for _ in range(WORKERS)]
    for p in procs:
        p.start()
    pids = [q.get() for _ in procs]
    print('ready', os.getpid(), *pids, flush=True)
    while True:
        time.sleep(60)
