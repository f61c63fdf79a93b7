/*
 * Batched UDP I/O for the DNS listener (src/dns/batch-udp.ts).
 *
 * Node's dgram makes one JavaScript callback per datagram, with a freshly allocated buffer and
 * address object, and one system call per reply. This addon reads up to BATCH datagrams with one
 * recvmmsg(2) into a receive arena that JavaScript sees as an ArrayBuffer, calls JavaScript once
 * for the whole batch, and sends the replies JavaScript wrote into the send arena with one
 * sendmmsg(2), each to the address its query came from. The socket is polled on Node's own event
 * loop (uv_poll), so everything runs on the main thread like any other I/O callback.
 *
 * Layout shared with JavaScript (all little-endian host order):
 *   recv arena: BATCH slots of SLOT bytes; slot i holds datagram i.
 *   send arena: BATCH slots of SLOT bytes; slot i holds the reply to datagram i.
 *   lengths:    Int32Array(2 * BATCH): [2i] the length of datagram i (-1: truncated, longer
 *               than SLOT), [2i + 1] the length of its reply (JavaScript sets it; 0: no reply).
 *   addresses:  Uint8Array(BATCH * ADDR): family (4 or 6), port (2 bytes, network order),
 *               address (4 or 16 bytes), IPv6 scope id (4 bytes, host order, at offset 19) of
 *               datagram i's sender.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#define BATCH 64
#define SLOT 4096
#define ADDR 24
/* Batches read per poll callback before other I/O gets a turn. */
#define ROUNDS 8

typedef struct {
  int fd;
  int family;
  napi_env env;
  uv_poll_t* poll;
  napi_ref callback;
  napi_ref arenas[4];
  napi_async_context context;
  uint8_t* recv_arena;
  uint8_t* send_arena;
  int32_t* lengths;
  uint8_t* addresses;
  struct mmsghdr rmsgs[BATCH];
  struct iovec riov[BATCH];
  struct sockaddr_storage from[BATCH];
  struct mmsghdr smsgs[BATCH];
  struct iovec siov[BATCH];
  int closed;
  /* Inside the JavaScript callback: a close() from there defers releasing the references and
   * the async context until the callback has returned (napi_make_callback still uses them). */
  int in_callback;
  int released;
} Sock;

#define CHECK(call)                                                      \
  do {                                                                   \
    if ((call) != napi_ok) {                                             \
      napi_throw_error(env, NULL, "mesodns udp_batch: N-API call failed"); \
      return NULL;                                                       \
    }                                                                    \
  } while (0)

/* Throws an Error like Node's own socket errors: message "bind EADDRINUSE 127.0.0.1:53", with
 * `code` set to the errno name. */
static napi_value throw_errno(napi_env env, const char* what, int err, const char* host, int port) {
  const char* name = err == EADDRINUSE      ? "EADDRINUSE"
                     : err == EACCES        ? "EACCES"
                     : err == EPERM         ? "EPERM"
                     : err == EADDRNOTAVAIL ? "EADDRNOTAVAIL"
                     : err == EAFNOSUPPORT  ? "EAFNOSUPPORT"
                     : err == EINVAL        ? "EINVAL"
                     : err == ENOMEM        ? "ENOMEM"
                                            : "EIO";
  char text[200];
  snprintf(text, sizeof text, "%s %s %s:%d (%s)", what, name, host, port, strerror(err));
  napi_value msg, code, error;
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_error(env, code, msg, &error);
  napi_throw(env, error);
  return NULL;
}

/* Sends the replies JavaScript wrote for the first n datagrams. A reply that cannot be sent now
 * (a full socket buffer) is dropped, like any UDP datagram. */
static void send_replies(Sock* s, int n) {
  int count = 0;
  for (int i = 0; i < n; i++) {
    int32_t len = s->lengths[2 * i + 1];
    if (len <= 0 || len > SLOT) continue;
    s->siov[count].iov_base = s->send_arena + (size_t)i * SLOT;
    s->siov[count].iov_len = (size_t)len;
    memset(&s->smsgs[count].msg_hdr, 0, sizeof(struct msghdr));
    s->smsgs[count].msg_hdr.msg_iov = &s->siov[count];
    s->smsgs[count].msg_hdr.msg_iovlen = 1;
    s->smsgs[count].msg_hdr.msg_name = &s->from[i];
    s->smsgs[count].msg_hdr.msg_namelen = s->rmsgs[i].msg_hdr.msg_namelen;
    count++;
  }
  int sent = 0;
  while (sent < count) {
    int r = sendmmsg(s->fd, s->smsgs + sent, (unsigned)(count - sent), MSG_DONTWAIT);
    if (r < 0) {
      if (errno == EINTR) continue;
      /* EAGAIN or a per-destination error: skip the datagram that failed and go on. */
      sent++;
      continue;
    }
    if (r == 0) break;
    sent += r;
  }
}

static void release_refs(napi_env env, Sock* s) {
  if (s->released) return;
  s->released = 1;
  napi_delete_reference(env, s->callback);
  for (int i = 0; i < 4; i++) napi_delete_reference(env, s->arenas[i]);
  napi_async_destroy(env, s->context);
}

static void on_readable(uv_poll_t* handle, int status, int events) {
  Sock* s = (Sock*)handle->data;
  (void)events;
  if (s->closed || status < 0) return;
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value callback, recv;
  napi_get_reference_value(env, s->callback, &callback);
  napi_get_global(env, &recv);
  for (int round = 0; round < ROUNDS && !s->closed; round++) {
    for (int i = 0; i < BATCH; i++) {
      s->riov[i].iov_base = s->recv_arena + (size_t)i * SLOT;
      s->riov[i].iov_len = SLOT;
      memset(&s->rmsgs[i].msg_hdr, 0, sizeof(struct msghdr));
      s->rmsgs[i].msg_hdr.msg_iov = &s->riov[i];
      s->rmsgs[i].msg_hdr.msg_iovlen = 1;
      s->rmsgs[i].msg_hdr.msg_name = &s->from[i];
      s->rmsgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
    }
    int n = recvmmsg(s->fd, s->rmsgs, BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0) break;
    for (int i = 0; i < n; i++) {
      int truncated = (s->rmsgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
      s->lengths[2 * i] = truncated ? -1 : (int32_t)s->rmsgs[i].msg_len;
      s->lengths[2 * i + 1] = 0;
      uint8_t* a = s->addresses + (size_t)i * ADDR;
      memset(a, 0, ADDR);
      if (s->from[i].ss_family == AF_INET6) {
        struct sockaddr_in6* sa = (struct sockaddr_in6*)&s->from[i];
        a[0] = 6;
        memcpy(a + 1, &sa->sin6_port, 2);
        memcpy(a + 3, &sa->sin6_addr, 16);
        memcpy(a + 19, &sa->sin6_scope_id, 4);
      } else {
        struct sockaddr_in* sa = (struct sockaddr_in*)&s->from[i];
        a[0] = 4;
        memcpy(a + 1, &sa->sin_port, 2);
        memcpy(a + 3, &sa->sin_addr, 4);
      }
    }
    napi_value count, result;
    napi_create_int32(env, n, &count);
    s->in_callback = 1;
    napi_status st = napi_make_callback(env, s->context, recv, callback, 1, &count, &result);
    s->in_callback = 0;
    if (st == napi_pending_exception) {
      napi_value error;
      napi_get_and_clear_last_exception(env, &error);
      napi_fatal_exception(env, error);
      break;
    }
    if (s->closed) break;
    send_replies(s, n);
    if (n < BATCH) break;
  }
  if (s->closed) release_refs(env, s);
  napi_close_handle_scope(env, scope);
}

static void free_poll(uv_handle_t* handle) { free(handle); }

static void close_sock(napi_env env, Sock* s) {
  if (s->closed) return;
  s->closed = 1;
  if (s->poll != NULL) {
    uv_poll_stop(s->poll);
    uv_close((uv_handle_t*)s->poll, free_poll);
    s->poll = NULL;
  }
  close(s->fd);
  s->fd = -1;
  if (!s->in_callback) release_refs(env, s);
}

/* The handle was collected: JavaScript keeps it while the socket is open, so this only frees
 * the memory (a socket still open here is closed without touching JavaScript). */
static void finalize_sock(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  Sock* s = (Sock*)data;
  if (!s->closed) {
    s->closed = 1;
    if (s->poll != NULL) {
      uv_poll_stop(s->poll);
      uv_close((uv_handle_t*)s->poll, free_poll);
    }
    close(s->fd);
  }
  free(s);
}

static int arena(napi_env env, napi_value value, size_t want, void** data) {
  bool is_ab = false;
  size_t length = 0;
  if (napi_is_arraybuffer(env, value, &is_ab) != napi_ok || !is_ab) return 0;
  if (napi_get_arraybuffer_info(env, value, data, &length) != napi_ok) return 0;
  return length >= want;
}

/* open(host, port, recvArena, sendArena, lengths, addresses, onBatch) -> handle */
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 7) {
    napi_throw_type_error(env, NULL, "open(host, port, recv, send, lengths, addresses, onBatch)");
    return NULL;
  }
  char host[64];
  size_t host_len = 0;
  CHECK(napi_get_value_string_utf8(env, argv[0], host, sizeof host, &host_len));
  int32_t port = 0;
  CHECK(napi_get_value_int32(env, argv[1], &port));
  void *recv_arena, *send_arena, *lengths, *addresses;
  if (!arena(env, argv[2], (size_t)BATCH * SLOT, &recv_arena) ||
      !arena(env, argv[3], (size_t)BATCH * SLOT, &send_arena) ||
      !arena(env, argv[4], (size_t)BATCH * 2 * sizeof(int32_t), &lengths) ||
      !arena(env, argv[5], (size_t)BATCH * ADDR, &addresses)) {
    napi_throw_type_error(env, NULL, "udp_batch: arena too small or not an ArrayBuffer");
    return NULL;
  }
  struct sockaddr_storage ss;
  socklen_t ss_len;
  memset(&ss, 0, sizeof ss);
  int family;
  struct sockaddr_in* in4 = (struct sockaddr_in*)&ss;
  struct sockaddr_in6* in6 = (struct sockaddr_in6*)&ss;
  if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
    family = AF_INET;
    in4->sin_family = AF_INET;
    in4->sin_port = htons((uint16_t)port);
    ss_len = sizeof *in4;
  } else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
    family = AF_INET6;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((uint16_t)port);
    ss_len = sizeof *in6;
  } else {
    napi_throw_type_error(env, NULL, "udp_batch: host must be an IP literal");
    return NULL;
  }
  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno, host, port);
  if (family == AF_INET6) {
    /* Dual stack, as Node's dgram and net default to: `[::]:53` also serves IPv4 clients (as
     * IPv4-mapped addresses), whatever net.ipv6.bindv6only says. A specific IPv6 address only
     * ever sees IPv6. */
    int off = 0;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  }
  if (bind(fd, (struct sockaddr*)&ss, ss_len) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "bind", err, host, port);
  }
  Sock* s = (Sock*)calloc(1, sizeof(Sock));
  if (s == NULL) {
    close(fd);
    return throw_errno(env, "calloc", ENOMEM, host, port);
  }
  s->fd = fd;
  s->family = family;
  s->env = env;
  s->recv_arena = recv_arena;
  s->send_arena = send_arena;
  s->lengths = lengths;
  s->addresses = addresses;
  for (int i = 0; i < 4; i++) CHECK(napi_create_reference(env, argv[2 + i], 1, &s->arenas[i]));
  CHECK(napi_create_reference(env, argv[6], 1, &s->callback));
  napi_value resource, name;
  CHECK(napi_create_object(env, &resource));
  CHECK(napi_create_string_utf8(env, "mesodns:udp", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, resource, name, &s->context));
  uv_loop_t* loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  s->poll = (uv_poll_t*)calloc(1, sizeof(uv_poll_t));
  if (s->poll == NULL || uv_poll_init_socket(loop, s->poll, fd) != 0) {
    free(s->poll);
    s->poll = NULL;
    close_sock(env, s);
    free(s);
    return throw_errno(env, "uv_poll_init", EIO, host, port);
  }
  s->poll->data = s;
  uv_poll_start(s->poll, UV_READABLE, on_readable);
  napi_value handle;
  CHECK(napi_create_external(env, s, finalize_sock, NULL, &handle));
  return handle;
}

static Sock* unwrap(napi_env env, napi_value value) {
  void* data = NULL;
  if (napi_get_value_external(env, value, &data) != napi_ok) return NULL;
  return (Sock*)data;
}

/* port(handle) -> the bound port */
static napi_value js_port(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Sock* s = unwrap(env, argv[0]);
  int port = 0;
  if (s != NULL && !s->closed) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(s->fd, (struct sockaddr*)&ss, &len) == 0) {
      port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6*)&ss)->sin6_port)
                                      : ntohs(((struct sockaddr_in*)&ss)->sin_port);
    }
  }
  napi_value result;
  CHECK(napi_create_int32(env, port, &result));
  return result;
}

/* sendTo(handle, data: Uint8Array, address: Uint8Array(ADDR)) -> bytes sent or -errno */
static napi_value js_send_to(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Sock* s = unwrap(env, argv[0]);
  void *data, *addr;
  size_t len, addr_len;
  napi_typedarray_type t1, t2;
  napi_value ab;
  size_t off;
  CHECK(napi_get_typedarray_info(env, argv[1], &t1, &len, &data, &ab, &off));
  CHECK(napi_get_typedarray_info(env, argv[2], &t2, &addr_len, &addr, &ab, &off));
  int r = -EBADF;
  if (s != NULL && !s->closed && addr_len >= ADDR) {
    const uint8_t* a = (const uint8_t*)addr;
    struct sockaddr_storage ss;
    socklen_t ss_len;
    memset(&ss, 0, sizeof ss);
    if (a[0] == 6) {
      struct sockaddr_in6* sa = (struct sockaddr_in6*)&ss;
      sa->sin6_family = AF_INET6;
      memcpy(&sa->sin6_port, a + 1, 2);
      memcpy(&sa->sin6_addr, a + 3, 16);
      memcpy(&sa->sin6_scope_id, a + 19, 4);
      ss_len = sizeof *sa;
    } else {
      struct sockaddr_in* sa = (struct sockaddr_in*)&ss;
      sa->sin_family = AF_INET;
      memcpy(&sa->sin_port, a + 1, 2);
      memcpy(&sa->sin_addr, a + 3, 4);
      ss_len = sizeof *sa;
    }
    ssize_t n = sendto(s->fd, data, len, MSG_DONTWAIT, (struct sockaddr*)&ss, ss_len);
    r = n < 0 ? -errno : (int)n;
  }
  napi_value result;
  CHECK(napi_create_int32(env, r, &result));
  return result;
}

/* close(handle) */
static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Sock* s = unwrap(env, argv[0]);
  if (s != NULL) close_sock(env, s);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"port", NULL, js_port, NULL, NULL, NULL, napi_default, NULL},
      {"sendTo", NULL, js_send_to, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  napi_value v;
  CHECK(napi_create_int32(env, BATCH, &v));
  CHECK(napi_set_named_property(env, exports, "BATCH", v));
  CHECK(napi_create_int32(env, SLOT, &v));
  CHECK(napi_set_named_property(env, exports, "SLOT", v));
  CHECK(napi_create_int32(env, ADDR, &v));
  CHECK(napi_set_named_property(env, exports, "ADDR", v));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
