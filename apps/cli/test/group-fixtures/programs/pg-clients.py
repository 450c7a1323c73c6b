"""Clients of a PostgreSQL server for the replay fixtures, in the frontend
protocol 3.0 over the server's Unix socket (trust authentication, no
library needed): the first connection creates a table of about 22 MiB (under a quarter of the default 128 MiB of shared_buffers, so scans go through the buffer pool, not a ring), then
CLIENTS connections each scan it (so every backend maps the buffer pool
pages the table sits in), print "ready PID PID ..." (the backends' pids, from
BackendKeyData) and hold their connections until killed.

  python3 pg-clients.py SOCKET_DIR PORT CLIENTS"""
import socket
import struct
import sys
import time

sock_dir, port, clients = sys.argv[1], sys.argv[2], int(sys.argv[3])


def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(f'{sock_dir}/.s.PGSQL.{port}')
    params = b'user\0postgres\0database\0postgres\0\0'
    s.sendall(struct.pack('!ii', 8 + len(params), 196608) + params)
    pid = None
    for kind, body in messages(s):
        if kind == b'R' and struct.unpack('!i', body[:4])[0] != 0:
            raise SystemExit('the server asks for a password: start it with trust authentication')
        if kind == b'K':
            pid = struct.unpack('!i', body[:4])[0]
        if kind == b'E':
            raise SystemExit(body.decode(errors='replace'))
        if kind == b'Z':
            return s, pid


def messages(s):
    buf = b''
    while True:
        while len(buf) < 5 or len(buf) < 1 + struct.unpack('!i', buf[1:5])[0]:
            chunk = s.recv(65536)
            if not chunk:
                raise SystemExit('the server closed the connection')
            buf += chunk
        n = struct.unpack('!i', buf[1:5])[0]
        yield buf[:1], buf[5:1 + n]
        buf = buf[1 + n:]


def query(s, sql):
    q = sql.encode() + b'\0'
    s.sendall(b'Q' + struct.pack('!i', 4 + len(q)) + q)
    for kind, body in messages(s):
        if kind == b'E':
            raise SystemExit(body.decode(errors='replace'))
        if kind == b'Z':
            return


conns = [connect() for _ in range(clients)]
query(conns[0][0], "DROP TABLE IF EXISTS t; CREATE TABLE t AS SELECT g, repeat('x', 400) AS s FROM generate_series(1, 50000) g")
for s, _ in conns:
    query(s, 'SELECT count(*), sum(length(s)) FROM t')
print('ready', *[pid for _, pid in conns], flush=True)
while True:
    time.sleep(60)
