// The Sentry's control socket (OCI containers): `runsc exec` connects,
// sends one ExecRequest with the process's stdio fds, and gets the pid,
// then the wait status when the process exits. The listening socket was
// bound by `runsc create` in the container's state directory; the Sentry
// only accepts on it (its seccomp filter allows accept4 on that fd alone).
#include "runsc/control.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "absl/strings/str_format.h"
#include "fs/host/host_file.h"
#include "runsc/runsc.pb.h"
#include "sentry/base/log.h"

namespace runsc {
namespace {

constexpr size_t kMaxRequest = 1 << 20;
constexpr int kStdioFds = 3;

void Reply(int c, const ExecReply& r) {
  std::string data;
  r.SerializeToString(&data);
  // One datagram per reply (SOCK_SEQPACKET keeps the boundaries).
  struct iovec iov = {data.data(), data.size()};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ssize_t n;
  do {
    n = sendmsg(c, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
}

void Fail(int c, const std::string& msg, int code) {
  ExecReply r;
  r.set_error(msg);
  r.set_error_code(code);
  Reply(c, r);
}

// Receives the request and up to three fds.
bool Receive(int c, ExecRequest* req, std::vector<int>* fds) {
  std::string buf(kMaxRequest, '\0');
  alignas(struct cmsghdr) char ctrl[CMSG_SPACE(sizeof(int) * kStdioFds)];
  struct iovec iov = {buf.data(), buf.size()};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctrl;
  msg.msg_controllen = sizeof(ctrl);
  ssize_t n;
  do {
    n = recvmsg(c, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return false;
  for (struct cmsghdr* h = CMSG_FIRSTHDR(&msg); h != nullptr; h = CMSG_NXTHDR(&msg, h)) {
    if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const int* p = reinterpret_cast<const int*>(CMSG_DATA(h));
    for (size_t i = 0; i < count; i++) fds->push_back(p[i]);
  }
  if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) return false;
  return req->ParseFromArray(buf.data(), static_cast<int>(n));
}

void Serve(sentry::Kernel* k, int c, const std::vector<sock_filter>* seccomp_filter) {
  ExecRequest req;
  std::vector<int> fds;
  if (!Receive(c, &req, &fds) || req.argv_size() == 0) {
    for (int fd : fds) close(fd);
    Fail(c, "malformed exec request", 126);
    close(c);
    return;
  }
  sentry::InitSpec spec;
  spec.argv.assign(req.argv().begin(), req.argv().end());
  spec.path = spec.argv[0];
  spec.envv.assign(req.env().begin(), req.env().end());
  spec.cwd = req.cwd().empty() ? "/" : req.cwd();
  spec.creds.uid = spec.creds.euid = spec.creds.suid = spec.creds.fsuid = req.uid();
  spec.creds.gid = spec.creds.egid = spec.creds.sgid = spec.creds.fsgid = req.gid();
  if (req.uid() != 0) spec.creds.cap_effective = spec.creds.cap_permitted = 0;
  spec.creds.groups.assign(req.groups().begin(), req.groups().end());
  spec.umask = req.umask();
  spec.no_new_privs = req.no_new_privs();
  spec.seccomp_filter = *seccomp_filter;
  for (const Rlimit& r : req.rlimits()) spec.rlimits.push_back({r.resource(), {r.cur(), r.max()}});
  for (size_t i = 0; i < fds.size(); i++) {
    int flags = fcntl(fds[i], F_GETFL);
    auto f = sentry::vfs::NewHostFile(fds[i], flags < 0 ? O_RDWR : (flags & O_ACCMODE));
    spec.stdio.push_back(f.ok() ? *f : nullptr);
    if (!f.ok()) close(fds[i]);
  }
  auto g = k->StartProcess(spec);
  if (!g.ok()) {
    Fail(c, std::string(g.status().message()), absl::IsNotFound(g.status()) ? 127 : 126);
    close(c);
    return;
  }
  ExecReply started;
  started.set_started_pid((*g)->tgid());
  Reply(c, started);
  spec.stdio.clear();  // the process holds its own references
  ExecReply exited;
  exited.set_exited_status(k->WaitProcess(*g));
  Reply(c, exited);
  close(c);
}

}  // namespace

void ServeControl(sentry::Kernel* k, int listen_fd, std::vector<sock_filter> seccomp_filter) {
  // Lives as long as the Sentry: the serving threads are detached.
  const auto* filter = new std::vector<sock_filter>(std::move(seccomp_filter));
  for (;;) {
    int c = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      SLOG(kWarning, "control socket: accept: %s", strerror(errno));
      return;
    }
    std::thread(Serve, k, c, filter).detach();
  }
}

}  // namespace runsc
