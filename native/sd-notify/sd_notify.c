/*
 * sd_notify for etcdts: one datagram to a unix socket, which node cannot send (node's dgram
 * speaks UDP only and node:net streams only). What etcd does through go-systemd's SdNotify:
 * dial the NOTIFY_SOCKET address as "unixgram" (a leading '@' names an abstract socket) and
 * write the state text. The caller passes the address and the message; errors come back as
 * exceptions with Go's words ("dial unixgram <addr>: connect: <reason>").
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <node_api.h>

static napi_value fail(napi_env env, const char *what, const char *addr, int err) {
  char msg[256 + sizeof(((struct sockaddr_un *)0)->sun_path)];
  char reason[128];
  snprintf(reason, sizeof(reason), "%s", strerror(err));
  /* Go's syscall texts are lower case ("no such file or directory"). */
  if (reason[0] >= 'A' && reason[0] <= 'Z') reason[0] = (char)(reason[0] - 'A' + 'a');
  snprintf(msg, sizeof(msg), "%s unixgram %s: %s", what, addr, reason);
  napi_throw_error(env, NULL, msg);
  return NULL;
}

/* notify(address: string, message: Buffer): undefined */
static napi_value notify(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2) {
    napi_throw_type_error(env, NULL, "notify(address, message)");
    return NULL;
  }
  struct sockaddr_un sa;
  char addr[sizeof(sa.sun_path) + 1];
  size_t addrLen = 0;
  if (napi_get_value_string_utf8(env, argv[0], addr, sizeof(addr), &addrLen) != napi_ok) {
    napi_throw_type_error(env, NULL, "address must be a string");
    return NULL;
  }
  void *data = NULL;
  size_t dataLen = 0;
  if (napi_get_buffer_info(env, argv[1], &data, &dataLen) != napi_ok) {
    napi_throw_type_error(env, NULL, "message must be a Buffer");
    return NULL;
  }
  if (addrLen == 0 || addrLen >= sizeof(sa.sun_path)) return fail(env, "dial", addr, EINVAL);
  memset(&sa, 0, sizeof(sa));
  sa.sun_family = AF_UNIX;
  memcpy(sa.sun_path, addr, addrLen);
  socklen_t saLen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + addrLen);
  if (addr[0] == '@') {
    sa.sun_path[0] = '\0'; /* abstract: the name is the bytes after the NUL, no terminator */
  } else {
    saLen += 1; /* a path counts its terminating NUL, as Go does */
  }
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(env, "dial", addr, errno);
  if (connect(fd, (struct sockaddr *)&sa, saLen) != 0) {
    int e = errno;
    close(fd);
    char what[16];
    snprintf(what, sizeof(what), "dial");
    char withConnect[sizeof(addr) + 16];
    snprintf(withConnect, sizeof(withConnect), "%s: connect", addr);
    return fail(env, what, withConnect, e);
  }
  ssize_t n = send(fd, data, dataLen, MSG_NOSIGNAL);
  int e = errno;
  close(fd);
  if (n < 0) {
    char withWrite[sizeof(addr) + 16];
    snprintf(withWrite, sizeof(withWrite), "%s: write", addr);
    return fail(env, "write", withWrite, e);
  }
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "notify", NAPI_AUTO_LENGTH, notify, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "notify", fn) != napi_ok) return NULL;
  return exports;
}
