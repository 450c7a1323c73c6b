/*
 * mmbench: the real kernel's cost per page of six memory-management
 * primitives, for `npm run bench` to set beside the model's.
 *
 *   mmbench PRIMITIVE PAGES REPS
 *
 * prints one line "PRIMITIVE NS_PER_PAGE" (the median of REPS timed runs,
 * each over PAGES pages, after one untimed run). PRIMITIVE is one of
 *
 *   anon_fault         write one byte to each page of a fresh private
 *                      anonymous mapping (one write fault per page)
 *   fork_pte           fork() of a process with PAGES pages written, timed
 *                      in the parent until fork returns, per page (PTE)
 *   munmap_page        munmap() of PAGES written pages, per page
 *   mprotect_page      mprotect() RW -> R over PAGES written pages, per page
 *   shared_file_fault  read one byte of each page of a System V shared
 *                      memory segment (a tmpfs file, mapped shared) whose
 *                      pages are all cached: one minor read fault per page
 *                      through __do_fault / shmem_fault (a /dev/shm mmap
 *                      would fault around, mapping 16 pages per fault)
 *   gup_fast_page      vmsplice() of PAGES written pages into a pipe,
 *                      SPLICE_F_GIFT off, so the kernel pins each page with
 *                      get_user_pages_fast; the pipe is drained untimed
 *
 * Built by `npm run bench` with the machine's `cc -O2`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL

static void die(const char *what) {
	fprintf(stderr, "mmbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static long minflt(void) {
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

static uint64_t now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static char *map_anon(size_t pages) {
	char *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) die("mmap");
	return p;
}

static void write_all(char *p, size_t pages) {
	for (size_t i = 0; i < pages; i++) p[i * PAGE] = (char)i;
}

/* One timed run of a primitive over `pages` pages: nanoseconds. */
static uint64_t run_once(const char *prim, size_t pages) {
	uint64_t t0, t1;
	if (strcmp(prim, "anon_fault") == 0) {
		char *p = map_anon(pages);
		t0 = now_ns();
		write_all(p, pages);
		t1 = now_ns();
		munmap(p, pages * PAGE);
	} else if (strcmp(prim, "fork_pte") == 0) {
		char *p = map_anon(pages);
		write_all(p, pages);
		t0 = now_ns();
		pid_t pid = fork();
		if (pid == 0) _exit(0);
		t1 = now_ns();
		if (pid < 0) die("fork");
		waitpid(pid, NULL, 0);
		munmap(p, pages * PAGE);
	} else if (strcmp(prim, "munmap_page") == 0) {
		char *p = map_anon(pages);
		write_all(p, pages);
		t0 = now_ns();
		if (munmap(p, pages * PAGE) != 0) die("munmap");
		t1 = now_ns();
	} else if (strcmp(prim, "mprotect_page") == 0) {
		char *p = map_anon(pages);
		write_all(p, pages);
		t0 = now_ns();
		if (mprotect(p, pages * PAGE, PROT_READ) != 0) die("mprotect");
		t1 = now_ns();
		munmap(p, pages * PAGE);
	} else if (strcmp(prim, "shared_file_fault") == 0) {
		/*
		 * A System V shared memory segment is a tmpfs (shm) file; unlike a
		 * mmap of a /dev/shm file its VMA has no ->map_pages, so the kernel
		 * does no fault-around (which maps 16 cached pages per fault since
		 * 3.15) and each page read takes one fault through __do_fault and
		 * shmem_fault, as in 2.6.24.
		 */
		int id = shmget(IPC_PRIVATE, pages * PAGE, IPC_CREAT | 0600);
		if (id < 0) die("shmget");
		/* fill the page cache through a first attach */
		char *w = shmat(id, NULL, 0);
		if (w == (void *)-1) die("shmat");
		write_all(w, pages);
		shmdt(w);
		char *r = shmat(id, NULL, SHM_RDONLY);
		if (r == (void *)-1) die("shmat");
		shmctl(id, IPC_RMID, NULL); /* freed at the last detach */
		volatile char sink = 0;
		long f0 = minflt();
		t0 = now_ns();
		for (size_t i = 0; i < pages; i++) sink += r[i * PAGE];
		t1 = now_ns();
		long faults = minflt() - f0;
		(void)sink;
		shmdt(r);
		/* every page must have taken its own fault, or this is not the model's work */
		if (faults < (long)pages) {
			fprintf(stderr, "mmbench: shared_file_fault: %ld faults for %zu pages (fault-around?)\n", faults, pages);
			exit(1);
		}
	} else if (strcmp(prim, "gup_fast_page") == 0) {
		char *p = map_anon(pages);
		write_all(p, pages);
		int fds[2];
		if (pipe(fds) != 0) die("pipe");
		/* a pipe of 256 pages if allowed, else the default 16 */
		long cap = fcntl(fds[1], F_SETPIPE_SZ, 256 * PAGE);
		size_t chunk = cap > 0 ? (size_t)cap / PAGE : 16;
		int devnull = open("/dev/null", O_WRONLY);
		if (devnull < 0) die("open /dev/null");
		uint64_t total = 0;
		for (size_t done = 0; done < pages;) {
			size_t n = pages - done < chunk ? pages - done : chunk;
			struct iovec iov = { p + done * PAGE, n * PAGE };
			uint64_t a = now_ns();
			ssize_t got = vmsplice(fds[1], &iov, 1, 0);
			total += now_ns() - a;
			if (got <= 0) die("vmsplice");
			/* drain (untimed) */
			for (ssize_t left = got; left > 0;) {
				ssize_t s = splice(fds[0], NULL, devnull, NULL, (size_t)left, 0);
				if (s <= 0) die("splice");
				left -= s;
			}
			done += (size_t)got / PAGE;
		}
		close(devnull);
		close(fds[0]);
		close(fds[1]);
		munmap(p, pages * PAGE);
		return total;
	} else {
		fprintf(stderr, "mmbench: unknown primitive '%s'\n", prim);
		exit(2);
	}
	return t1 - t0;
}

static int cmp(const void *a, const void *b) {
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
	if (argc != 4) {
		fprintf(stderr, "usage: mmbench PRIMITIVE PAGES REPS\n");
		return 2;
	}
	const char *prim = argv[1];
	size_t pages = strtoul(argv[2], NULL, 10);
	int reps = atoi(argv[3]);
	if (pages == 0 || reps <= 0) {
		fprintf(stderr, "mmbench: PAGES and REPS must be positive\n");
		return 2;
	}
	uint64_t *t = calloc((size_t)reps, sizeof *t);
	if (t == NULL) die("calloc");
	run_once(prim, pages); /* warm-up */
	for (int i = 0; i < reps; i++) t[i] = run_once(prim, pages);
	qsort(t, (size_t)reps, sizeof *t, cmp);
	printf("%s %.2f\n", prim, (double)t[reps / 2] / (double)pages);
	free(t);
	return 0;
}
