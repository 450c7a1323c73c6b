"""An interpreter with a large heap, for the replay fixtures: a list of a
million small objects and a 128 MiB bytearray. Prints "ready PID" and
sleeps until killed."""
import os
import time

objects = [{'i': i, 's': str(i)} for i in range(1_000_000)]
big = bytearray(128 << 20)
for off in range(0, len(big), 4096):
    big[off] = 1
print('ready', os.getpid(), flush=True)
while True:
    time.sleep(60)
