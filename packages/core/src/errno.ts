/**
 * Kernel-style error numbers. System calls in the model return a negative
 * errno on failure, as the kernel's syscalls do (`IS_ERR_VALUE`).
 * @module
 */

/** Operation not permitted. */
export const EPERM = 1;
/** No such file or directory. */
export const ENOENT = 2;
/** Bad file descriptor (an unknown or released file). */
export const EBADF = 9;
/** Out of memory. */
export const ENOMEM = 12;
/** Permission denied. */
export const EACCES = 13;
/** Device or resource busy. */
export const EBUSY = 16;
/** Bad address. */
export const EFAULT = 14;
/** No such device (`do_mmap_pgoff` on a file whose `f_op` has no `mmap`). */
export const ENODEV = 19;
/** Invalid argument. */
export const EINVAL = 22;
/** Value too large for defined data type. */
export const EOVERFLOW = 75;

const NAMES: Readonly<Record<number, string>> = {
  [EPERM]: 'EPERM',
  [ENOENT]: 'ENOENT',
  [EBADF]: 'EBADF',
  [ENOMEM]: 'ENOMEM',
  [EACCES]: 'EACCES',
  [EBUSY]: 'EBUSY',
  [EFAULT]: 'EFAULT',
  [ENODEV]: 'ENODEV',
  [EINVAL]: 'EINVAL',
  [EOVERFLOW]: 'EOVERFLOW',
};

/**
 * True when a syscall return value is an error (a negative errno).
 * Models `IS_ERR_VALUE()`: valid addresses and counts are never negative.
 */
export function isErr(ret: number): boolean {
  return ret < 0;
}

/** The symbolic name of a (negative or positive) errno value, e.g. `'EINVAL'`. */
export function errnoName(ret: number): string {
  return NAMES[Math.abs(ret)] ?? `E${Math.abs(ret)}`;
}

/** Signal delivered for an access to an unmapped or forbidden address. */
export const SIGSEGV = 11;
/** Signal delivered for an access beyond the end of a file mapping. */
export const SIGBUS = 7;
/** Signal delivered by the OOM killer. */
export const SIGKILL = 9;
