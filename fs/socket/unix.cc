#include "fs/socket/unix.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>

#include "absl/strings/str_format.h"
#include "fs/pipe/pipe.h"
#include "sentry/kernel/task.h"

namespace sentry::vfs {
namespace {

class SockFs : public Filesystem {
 public:
  std::string_view Name() const override { return "sockfs"; }
};
SockFs& TheSockFs() {
  static SockFs* fs = new SockFs();
  return *fs;
}

// Largest buffer SO_SNDBUF/SO_RCVBUF may ask for (Linux's default
// wmem_max/rmem_max are about this); larger requests are capped.
constexpr int kMaxSockBuf = 1 << 20;
constexpr uint32_t kDefaultSockBuf = 212992;

class UnixPairEnd : public SocketFile {
 public:
  UnixPairEnd(int type, std::shared_ptr<Pipe> in, std::shared_ptr<Pipe> out, struct ucred peer)
      : type_(type), in_(std::move(in)), out_(std::move(out)), peer_(peer),
        ino_(NextInodeNumber()), created_(Now()) {}
  ~UnixPairEnd() override {
    if (!rd_shut_.exchange(true)) in_->CloseEnd(true, false);
    if (!wr_shut_.exchange(true)) out_->CloseEnd(false, true);
  }

  int Type() const override { return type_; }

  SysRet Send(Task*, IOSequence& src, int) override {
    if (wr_shut_.load()) return SysRet::Err(EPIPE);
    return out_->Write(src, type_ == SOCK_SEQPACKET);
  }
  SysRet Recv(Task*, IOSequence& dst, int) override {
    if (rd_shut_.load()) return 0;
    return in_->Read(dst);
  }
  SysRet Read(Task* t, IOSequence& dst) override { return Recv(t, dst, 0); }
  SysRet Write(Task* t, IOSequence& src) override { return Send(t, src, 0); }
  SysRet PRead(Task*, IOSequence&, int64_t) override { return SysRet::Err(ESPIPE); }
  SysRet PWrite(Task*, IOSequence&, int64_t) override { return SysRet::Err(ESPIPE); }
  ErrorOr<int64_t> Seek(int64_t, int) override { return Err(ESPIPE); }
  bool seekable() const override { return false; }

  Errno Shutdown(int how) override {
    if (how == SHUT_RD || how == SHUT_RDWR) {
      if (!rd_shut_.exchange(true)) in_->CloseEnd(true, false);
    }
    if (how == SHUT_WR || how == SHUT_RDWR) {
      if (!wr_shut_.exchange(true)) out_->CloseEnd(false, true);
    }
    return 0;
  }

  uint32_t Readiness(uint32_t mask) override {
    uint32_t r = 0;
    const bool rd_shut = rd_shut_.load(), wr_shut = wr_shut_.load();
    bool peer_wr_gone = false, peer_rd_gone = false;
    if (!rd_shut) {
      uint32_t in = in_->Readiness(true, false, 0, POLLIN | POLLHUP);
      if (in & POLLIN) r |= POLLIN | POLLRDNORM;
      peer_wr_gone = in & POLLHUP;
    }
    if (rd_shut || peer_wr_gone) r |= POLLIN | POLLRDNORM | POLLRDHUP;
    if (!wr_shut) {
      uint32_t out = out_->Readiness(false, true, 0, POLLOUT | POLLERR);
      // A write to a peer that stopped reading fails at once: writable.
      if (out & (POLLOUT | POLLERR)) r |= POLLOUT | POLLWRNORM;
      peer_rd_gone = out & POLLERR;
    }
    // unix_poll: hang-up once neither direction is open any more.
    if ((rd_shut || peer_wr_gone) && (wr_shut || peer_rd_gone)) r |= POLLHUP;
    return r & (mask | POLLHUP | POLLERR);
  }
  void EventRegister(Waiter* w, uint32_t mask) override {
    in_->Register(w, mask);
    out_->Register(w, mask);
  }
  void EventUnregister(Waiter* w) override {
    in_->Unregister(w);
    out_->Unregister(w);
  }

  ErrorOr<Attr> Stat() override {
    Attr a;
    a.dev = TheSockFs().dev();
    a.ino = ino_;
    a.mode = S_IFSOCK | 0777;
    a.nlink = 1;
    a.uid = peer_.uid;
    a.gid = peer_.gid;
    a.blksize = 4096;
    a.atime = a.mtime = a.ctime = a.btime = created_;
    return a;
  }
  std::string AnonName() const override { return absl::StrFormat("socket:[%d]", ino_); }

  SysRet Ioctl(Task* t, uint32_t cmd, uint64_t arg) override {
    if (t != nullptr && (cmd == FIONREAD || cmd == TIOCOUTQ)) {
      int n = static_cast<int>(cmd == FIONREAD ? in_->Queued() : out_->Queued());
      TRY(t->CopyOut(UserPtr<int>(arg), n));
      return 0;
    }
    return SysRet::Err(ENOTTY);
  }

  ErrorOr<int> GetIntOption(int name) override {
    switch (name) {
      case SO_TYPE: return type_;
      case SO_DOMAIN: return AF_UNIX;
      case SO_PROTOCOL: return 0;
      case SO_ERROR: return 0;
      case SO_ACCEPTCONN: return 0;
      case SO_SNDBUF: return static_cast<int>(out_->Capacity());
      case SO_RCVBUF: return static_cast<int>(in_->Capacity());
      default: return Err(ENOPROTOOPT);
    }
  }
  Errno SetIntOption(int name, int value) override {
    if (name != SO_SNDBUF && name != SO_RCVBUF) return ENOPROTOOPT;
    // Linux clamps rather than fails; the ring rounds to whole pages.
    uint32_t want = static_cast<uint32_t>(std::clamp(value, 4096, kMaxSockBuf));
    (void)(name == SO_SNDBUF ? out_ : in_)->SetCapacity(want, /*privileged=*/true);
    return 0;
  }
  struct ucred PeerCred() const override { return peer_; }

 private:
  const int type_;
  const std::shared_ptr<Pipe> in_, out_;
  const struct ucred peer_;
  const uint64_t ino_;
  const struct timespec created_;
  std::atomic<bool> rd_shut_{false}, wr_shut_{false};
};

}  // namespace

std::pair<std::shared_ptr<FileDescription>, std::shared_ptr<FileDescription>> NewUnixPair(
    int type, uint32_t flags, struct ucred creds) {
  auto a_to_b = std::make_shared<Pipe>(creds.uid, creds.gid);
  auto b_to_a = std::make_shared<Pipe>(creds.uid, creds.gid);
  // Each socket is one reader and one writer of the two rings.
  for (const auto& p : {a_to_b, b_to_a}) {
    (void)p->OpenEnd(O_RDONLY, /*is_fifo=*/false, nullptr);
    (void)p->OpenEnd(O_WRONLY, /*is_fifo=*/false, nullptr);
    // Linux queues about net.core.wmem_default (212992) bytes per
    // direction before a sender blocks; programs rely on that much.
    (void)p->SetCapacity(kDefaultSockBuf, /*privileged=*/true);
  }
  auto a = std::make_shared<UnixPairEnd>(type, b_to_a, a_to_b, creds);
  auto b = std::make_shared<UnixPairEnd>(type, a_to_b, b_to_a, creds);
  a->Init(VirtualDentry(), O_RDWR | (flags & O_NONBLOCK));
  b->Init(VirtualDentry(), O_RDWR | (flags & O_NONBLOCK));
  return {a, b};
}

}  // namespace sentry::vfs
