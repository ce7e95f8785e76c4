/*
 * LD_PRELOAD shim for the fault harness's "slow fsync" fault: while the 4-byte control file
 * named by ETCDTS_SLOWFS (a little-endian microsecond count, written by the harness) holds a
 * non-zero delay, every fsync/fdatasync, and every write to a file opened O_SYNC/O_DSYNC (the
 * WAL), sleeps that long before doing the real call. A slow disk, nothing else: the call still
 * happens and its result is returned unchanged. With a zero delay the cost is one load.
 *
 * Only dynamically linked callers of libc are affected (Node and its addons are; Go binaries
 * such as etcd call the kernel directly and are not).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static volatile const uint32_t *ctl;

__attribute__((constructor)) static void slowfs_init(void) {
  const char *path = getenv("ETCDTS_SLOWFS");
  if (path == NULL || *path == 0) return;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  void *p = mmap(NULL, 4, PROT_READ, MAP_SHARED, fd, 0);
  close(fd);
  if (p != MAP_FAILED) ctl = (volatile const uint32_t *)p;
}

static void slowfs_wait(void) {
  uint32_t us = ctl ? *ctl : 0;
  if (us == 0) return;
  struct timespec ts = { us / 1000000, (long)(us % 1000000) * 1000 };
  while (nanosleep(&ts, &ts) != 0) {}
}

static int is_sync_fd(int fd) {
  if (ctl == NULL || *ctl == 0) return 0;
  int fl = fcntl(fd, F_GETFL);
  return fl >= 0 && (fl & (O_SYNC | O_DSYNC)) != 0;
}

#define REAL(name) static __typeof__(&name) real_##name; if (!real_##name) real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

int fsync(int fd) {
  REAL(fsync);
  slowfs_wait();
  return real_fsync(fd);
}

int fdatasync(int fd) {
  REAL(fdatasync);
  slowfs_wait();
  return real_fdatasync(fd);
}

ssize_t write(int fd, const void *buf, size_t n) {
  REAL(write);
  if (is_sync_fd(fd)) slowfs_wait();
  return real_write(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
  REAL(pwrite);
  if (is_sync_fd(fd)) slowfs_wait();
  return real_pwrite(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off) {
  REAL(pwrite64);
  if (is_sync_fd(fd)) slowfs_wait();
  return real_pwrite64(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt) {
  REAL(writev);
  if (is_sync_fd(fd)) slowfs_wait();
  return real_writev(fd, iov, cnt);
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off) {
  REAL(pwritev);
  if (is_sync_fd(fd)) slowfs_wait();
  return real_pwritev(fd, iov, cnt, off);
}

ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int flags) {
  REAL(pwritev2);
  if (is_sync_fd(fd)) slowfs_wait();
  return real_pwritev2(fd, iov, cnt, off, flags);
}
