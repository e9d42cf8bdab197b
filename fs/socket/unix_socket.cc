// The Unix socket file: names (path sockets are S_IFSOCK nodes in the
// VFS, abstract ones live in a table of their own), connecting, sending
// and options. The endpoint (unix_endpoint.h) holds the state peers share.
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cstring>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_format.h"
#include "fs/socket/unix.h"
#include "fs/socket/unix_endpoint.h"
#include "fs/vfs/vfs.h"
#include "sentry/base/random.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"

namespace sentry::vfs {
namespace {

using unixsock::Endpoint;
using unixsock::EndpointPtr;
using unixsock::Message;
using unixsock::State;

constexpr uint32_t kPathOffset = offsetof(struct sockaddr_un, sun_path);

// Every bound name, abstract ("a" + bytes) or path ("p" + dev:ino, which
// stays the same however the node is looked up), to its endpoint.
struct Names {
  absl::Mutex mu;
  absl::flat_hash_map<std::string, std::weak_ptr<Endpoint>> map ABSL_GUARDED_BY(mu);
};
Names& TheNames() {
  static Names* n = new Names;
  return *n;
}

EndpointPtr LookupName(const std::string& key) {
  Names& n = TheNames();
  absl::MutexLock l(&n.mu);
  auto it = n.map.find(key);
  return it == n.map.end() ? nullptr : it->second.lock();
}

// Claims `key` for `ep`; false when a live socket has it.
bool ClaimName(const std::string& key, const EndpointPtr& ep) {
  Names& n = TheNames();
  absl::MutexLock l(&n.mu);
  auto [it, inserted] = n.map.try_emplace(key, ep);
  if (!inserted) {
    if (it->second.lock()) return false;
    it->second = ep;
  }
  return true;
}

void DropName(const std::string& key, const Endpoint* ep) {
  Names& n = TheNames();
  absl::MutexLock l(&n.mu);
  auto it = n.map.find(key);
  if (it == n.map.end()) return;
  EndpointPtr cur = it->second.lock();
  if (cur == nullptr || cur.get() == ep) n.map.erase(it);
}

std::string PathKey(const Attr& a) { return absl::StrFormat("p%d:%d", a.dev, a.ino); }

// A parsed sockaddr_un.
struct UnixName {
  enum Kind { kAutobind, kAbstract, kPath } kind;
  std::string name;  // abstract bytes (without the leading NUL) or path
};

ErrorOr<UnixName> ParseName(const SockAddr& a) {
  if (a.len < sizeof(sa_family_t) || a.len > sizeof(struct sockaddr_un)) return Err(EINVAL);
  if (a.family() != AF_UNIX) return Err(EINVAL);
  const auto* sun = reinterpret_cast<const struct sockaddr_un*>(&a.ss);
  size_t n = a.len - kPathOffset;
  if (n == 0) return UnixName{UnixName::kAutobind, ""};
  if (sun->sun_path[0] == '\0') {
    return UnixName{UnixName::kAbstract, std::string(sun->sun_path + 1, n - 1)};
  }
  // A path ends at its first NUL or at the end of what was passed.
  return UnixName{UnixName::kPath, std::string(sun->sun_path, strnlen(sun->sun_path, n))};
}

SockAddr MakeAddr(const UnixName& n) {
  SockAddr a;
  auto* sun = reinterpret_cast<struct sockaddr_un*>(&a.ss);
  sun->sun_family = AF_UNIX;
  if (n.kind == UnixName::kPath) {
    std::memcpy(sun->sun_path, n.name.data(), n.name.size());
    // getsockname reports the path with its terminating NUL.
    a.len = kPathOffset + n.name.size() + 1;
  } else {
    std::memcpy(sun->sun_path + 1, n.name.data(), n.name.size());
    a.len = kPathOffset + 1 + n.name.size();
  }
  return a;
}

SockAddr Unnamed() {
  SockAddr a;
  a.ss.ss_family = AF_UNIX;
  a.len = sizeof(sa_family_t);
  return a;
}

struct ucred TaskCred(Task* t) {
  if (t == nullptr) return {0, 0, 0};
  Credentials c = t->creds();
  return {t->tgid(), c.euid, c.egid};
}

class UnixSocketFile : public SocketBase {
 public:
  UnixSocketFile(EndpointPtr ep, uint32_t uid, uint32_t gid)
      : SocketBase(uid, gid), ep_(std::move(ep)) {}
  ~UnixSocketFile() override {
    if (!ep_->registry_key.empty()) DropName(ep_->registry_key, ep_.get());
    ep_->Close();
  }

  int Family() const override { return AF_UNIX; }
  int Type() const override { return ep_->type(); }

  Errno Bind(Task* t, const SockAddr& addr) override {
    UnixName n = TRY_ASSIGN(ParseName(addr));
    if (ep_->name()) return EINVAL;
    if (n.kind == UnixName::kPath) return BindPath(t, n);
    if (n.kind == UnixName::kAutobind) return Autobind();
    if (!ClaimName("a" + n.name, ep_)) return EADDRINUSE;
    return Named("a" + n.name, MakeAddr(n));
  }

  Errno Listen(Task* t, int backlog) override { return ep_->Listen(backlog); }

  ErrorOr<std::shared_ptr<FileDescription>> Accept(Task* t, uint32_t flags,
                                                   SockAddr* peer) override {
    if (!ep_->connection_based()) return Err(EOPNOTSUPP);
    EndpointPtr server = TRY_ASSIGN(ep_->Dequeue());
    EndpointPtr client = server->peer();
    std::optional<SockAddr> name = client ? client->name() : std::nullopt;
    *peer = name ? *name : Unnamed();
    Attr a = TRY_ASSIGN(Stat());
    auto f = std::make_shared<UnixSocketFile>(std::move(server), a.uid, a.gid);
    f->Init(VirtualDentry(), O_RDWR | (flags & O_NONBLOCK));
    return std::shared_ptr<FileDescription>(f);
  }

  Errno Connect(Task* t, const SockAddr& addr) override {
    if (addr.len >= sizeof(sa_family_t) && addr.family() == AF_UNSPEC && !ep_->connection_based()) {
      ep_->SetDgramPeer(nullptr);  // dissolves the association
      return 0;
    }
    UnixName n = TRY_ASSIGN(ParseName(addr));
    if (n.kind == UnixName::kAutobind) return EINVAL;
    EndpointPtr target = TRY_ASSIGN(Lookup(t, n));
    if (target->type() != ep_->type()) return EPROTOTYPE;
    if (ep_->passcred() && !ep_->name()) TRY(Autobind());
    if (!ep_->connection_based()) {
      // unix_may_send: a socket connected elsewhere takes nothing from us.
      EndpointPtr their = target->peer();
      if (their && their != ep_) return EPERM;
      if (target->state() == State::kClosed) return ECONNREFUSED;
      ep_->SetDgramPeer(target);
      return 0;
    }
    TRY(ep_->BeginConnect());
    // The accepting side's end exists from now on, bound to the
    // listener's name; data sent before accept waits in it.
    auto server = std::make_shared<Endpoint>(ep_->type(), target->owner());
    if (auto tn = target->name()) server->SetName(*tn);
    server->Attach(ep_, TaskCred(t));
    // The accepted socket inherits the listener's SO_PASSCRED (sock_copy_flags).
    if (target->passcred()) server->set_passcred(true);
    Errno e = target->Enqueue(server);
    if (e != 0) {
      ep_->AbortConnect();
      if (e == EAGAIN) ep_->WaitForRoomIn(target);
      return e;
    }
    ep_->Attach(server, target->owner());
    return 0;
  }

  Errno Shutdown(int how) override { return ep_->Shutdown(how); }

  SysRet SendMsg(Task* t, IOSequence& src, int flags, const SockAddr* to,
                 ControlMessages* ctl) override {
    if (flags & MSG_OOB) return SysRet::Err(EOPNOTSUPP);  // no CONFIG_AF_UNIX_OOB
    Message m;
    m.creds = TaskCred(t);
    if (t != nullptr) {
      Credentials c = t->creds();
      m.creds.uid = c.uid;  // scm_send: the real ids
      m.creds.gid = c.gid;
    }
    if (ctl != nullptr && ctl->creds) TRY(CheckCreds(t, *ctl->creds, &m.creds));
    if (auto name = ep_->name()) m.from = *name;

    if (ep_->type() == SOCK_STREAM) {
      if (to != nullptr) return SysRet::Err(ep_->state() == State::kConnected ? EISCONN : EOPNOTSUPP);
      EndpointPtr peer = ep_->peer();
      if (ep_->send_shut()) return SysRet::Err(EPIPE);
      if (!peer) return SysRet::Err(ENOTCONN);
      if (src.remaining() == 0) return 0;
      int64_t room = ep_->sndbuf() - ep_->in_flight();
      if (room <= 0) return SysRet::Err(EAGAIN);
      TRY(peer->CheckDeliver(ep_, 0));
      size_t n = std::min<size_t>(src.remaining(), static_cast<size_t>(room));
      TRY(TakeData(src, n, &m));
      if (ctl != nullptr) m.rights = std::move(ctl->rights);
      peer->Deliver(std::move(m), ep_);
      return static_cast<int64_t>(n);
    }

    EndpointPtr target;
    if (ep_->type() == SOCK_SEQPACKET) {
      // unix_seqpacket_sendmsg ignores an address.
      if (ep_->send_shut()) return SysRet::Err(EPIPE);
      if (ep_->state() != State::kConnected) return SysRet::Err(ENOTCONN);
      target = ep_->peer();
      if (!target) return SysRet::Err(EPIPE);
    } else if (to != nullptr) {
      UnixName n = TRY_ASSIGN(ParseName(*to));
      if (n.kind == UnixName::kAutobind) return SysRet::Err(EINVAL);
      target = TRY_ASSIGN(Lookup(t, n));
      if (target->type() != SOCK_DGRAM) return SysRet::Err(EPROTOTYPE);
    } else {
      if (ep_->send_shut()) return SysRet::Err(EPIPE);
      target = ep_->peer();
      if (!target) return SysRet::Err(ENOTCONN);
    }
    if (ep_->type() == SOCK_DGRAM) {
      // unix_may_send: a socket connected elsewhere takes nothing from us.
      EndpointPtr their = target->peer();
      if (their && their != ep_) return SysRet::Err(EPERM);
    }
    if (ep_->send_shut()) return SysRet::Err(EPIPE);
    size_t size = src.remaining();
    if (static_cast<int64_t>(size) > ep_->sndbuf() - 32) return SysRet::Err(EMSGSIZE);
    if (ep_->in_flight() > 0 &&
        ep_->in_flight() + static_cast<int64_t>(size) > ep_->sndbuf()) {
      return SysRet::Err(EAGAIN);
    }
    if (ep_->passcred() && !ep_->name()) {
      TRY(Autobind());
      m.from = *ep_->name();
    }
    Errno e = target->CheckDeliver(ep_, size);
    if (e == EAGAIN) ep_->WaitForRoomIn(target);
    if (e == ECONNREFUSED && ep_->peer() == target) ep_->SetDgramPeer(nullptr);
    if (e != 0) return SysRet::Err(e);
    TRY(TakeData(src, size, &m));
    if (ctl != nullptr) m.rights = std::move(ctl->rights);
    target->Deliver(std::move(m), ep_);
    return static_cast<int64_t>(size);
  }

  SysRet RecvMsg(Task* t, IOSequence& dst, int flags, SockAddr* from, ControlMessages* ctl,
                 int* msg_flags) override {
    if (flags & MSG_OOB) return SysRet::Err(EOPNOTSUPP);
    Message m;
    SysRet r = ep_->Receive(dst, flags, &m, msg_flags);
    if (!r.ok()) return r;
    if (from != nullptr) *from = m.from;
    if (ctl != nullptr) {
      ctl->rights = std::move(m.rights);
      if (ep_->passcred()) ctl->creds = m.creds;
    }
    return r;
  }

  ErrorOr<SockAddr> SockName() override {
    auto n = ep_->name();
    return n ? *n : Unnamed();
  }
  ErrorOr<SockAddr> PeerName() override {
    EndpointPtr p = ep_->peer();
    if (!p) return Err(ENOTCONN);
    auto n = p->name();
    return n ? *n : Unnamed();
  }

  ErrorOr<std::vector<uint8_t>> GetSockOpt(Task* t, int level, int name, uint32_t len) override {
    if (level != SOL_SOCKET) return Err(EOPNOTSUPP);
    switch (name) {
      case SO_ERROR: return IntBytes(ep_->TakeError());
      case SO_ACCEPTCONN: return IntBytes(ep_->listening() ? 1 : 0);
      case SO_SNDBUF: return IntBytes(ep_->sndbuf());
      case SO_RCVBUF: return IntBytes(ep_->rcvbuf());
      case SO_PASSCRED: return IntBytes(ep_->passcred() ? 1 : 0);
      case SO_PEERCRED: {
        // cred_to_ucred of no peer: pid 0, ids -1.
        struct ucred c = ep_->peer_cred().value_or(
            ucred{0, static_cast<uid_t>(-1), static_cast<gid_t>(-1)});
        std::vector<uint8_t> b(sizeof(c));
        std::memcpy(b.data(), &c, sizeof(c));
        return b;
      }
      default: return GetStoredOption(name);
    }
  }

  Errno SetSockOpt(Task* t, int level, int name, const std::vector<uint8_t>& val) override {
    if (level != SOL_SOCKET) return EOPNOTSUPP;
    switch (name) {
      case SO_SNDBUF:
      case SO_RCVBUF:
      case SO_SNDBUFFORCE:
      case SO_RCVBUFFORCE: {
        int v = TRY_ASSIGN(OptionInt(val));
        bool force = name == SO_SNDBUFFORCE || name == SO_RCVBUFFORCE;
        if (force && (t == nullptr || !t->creds().HasCap(CAP_NET_ADMIN))) return EPERM;
        // sock_setsockopt: capped at wmem_max/rmem_max unless forced,
        // doubled for bookkeeping overhead, and never below the minimum.
        int64_t want = force ? std::max(v, 0) : std::min(std::max(v, 0), unixsock::kMaxBuf);
        int eff = static_cast<int>(std::clamp<int64_t>(want * 2, unixsock::kMinBuf, INT32_MAX));
        bool snd = name == SO_SNDBUF || name == SO_SNDBUFFORCE;
        if (snd) {
          ep_->set_sndbuf(eff);
        } else {
          ep_->set_rcvbuf(std::max(eff, 2304));
        }
        ep_->Notify(POLLOUT | POLLWRNORM);
        return 0;
      }
      case SO_PASSCRED: {
        int v = TRY_ASSIGN(OptionInt(val));
        ep_->set_passcred(v != 0);
        return 0;
      }
      case SO_TYPE:
      case SO_DOMAIN:
      case SO_PROTOCOL:
      case SO_ERROR:
      case SO_ACCEPTCONN:
      case SO_PEERCRED:
        return ENOPROTOOPT;
      default:
        return SetStoredOption(name, val);
    }
  }

  uint32_t Readiness(uint32_t mask) override { return ep_->Readiness(mask); }
  void EventRegister(Waiter* w, uint32_t mask) override { ep_->Register(w, mask); }
  void EventUnregister(Waiter* w) override { ep_->Unregister(w); }

  SysRet Ioctl(Task* t, uint32_t cmd, uint64_t arg) override {
    if (t == nullptr) return SysRet::Err(ENOTTY);
    if (cmd == FIONREAD || cmd == TIOCOUTQ) {
      if (cmd == FIONREAD && ep_->listening()) return SysRet::Err(EINVAL);
      int64_t n = cmd == FIONREAD ? static_cast<int64_t>(ep_->InQueue()) : ep_->in_flight();
      TRY(t->CopyOut(UserPtr<int>(arg), static_cast<int>(n)));
      return 0;
    }
    return SysRet::Err(ENOTTY);
  }

 private:
  Errno Named(const std::string& key, const SockAddr& a) {
    if (!ep_->SetName(a)) {
      DropName(key, ep_.get());
      return EINVAL;
    }
    ep_->registry_key = key;
    return 0;
  }

  // unix_autobind: an abstract name of five hex digits.
  Errno Autobind() {
    for (int tries = 0; tries < 0x100000; ++tries) {
      std::string name = absl::StrFormat("%05x", static_cast<uint32_t>(RandomU64()) & 0xfffff);
      if (!ClaimName("a" + name, ep_)) continue;
      return Named("a" + name, MakeAddr(UnixName{UnixName::kAbstract, name}));
    }
    return ENOSPC;
  }

  Errno BindPath(Task* t, const UnixName& n) {
    if (t == nullptr) return EINVAL;
    if (n.name.size() >= sizeof(sockaddr_un::sun_path)) return EINVAL;
    VFS* vfs = t->kernel().vfs();
    PathContext ctx = t->PathCtx();
    // unix_bind_bsd: a fresh S_IFSOCK node, 0777 less the umask; an
    // existing name (even a dangling symlink) is EADDRINUSE.
    Errno e = vfs->Mknod(ctx, ctx.cwd, n.name, S_IFSOCK | 0777, 0);
    if (e == EEXIST) return EADDRINUSE;
    TRY(e);
    VirtualDentry vd = TRY_ASSIGN(vfs->Resolve(ctx, ctx.cwd, n.name, 0));
    Attr a = TRY_ASSIGN(vd.dentry->inode()->GetAttr());
    std::string key = PathKey(a);
    if (!ClaimName(key, ep_)) return EADDRINUSE;
    return Named(key, MakeAddr(n));
  }

  ErrorOr<EndpointPtr> Lookup(Task* t, const UnixName& n) {
    if (n.kind == UnixName::kAbstract) {
      EndpointPtr e = LookupName("a" + n.name);
      if (!e) return Err(ECONNREFUSED);
      return e;
    }
    if (t == nullptr) return Err(ECONNREFUSED);
    VFS* vfs = t->kernel().vfs();
    PathContext ctx = t->PathCtx();
    VirtualDentry vd = TRY_ASSIGN(vfs->Resolve(ctx, ctx.cwd, n.name, kFollow));
    Attr a = TRY_ASSIGN(vd.dentry->inode()->GetAttr());
    if (!S_ISSOCK(a.mode)) return Err(ECONNREFUSED);
    TRY(VFS::CheckPermission(ctx.creds, a, kMayWrite));
    EndpointPtr e = LookupName(PathKey(a));
    if (!e) return Err(ECONNREFUSED);
    return e;
  }

  static Errno TakeData(IOSequence& src, size_t n, Message* m) {
    m->data.resize(n);
    if (n == 0) return 0;
    size_t got = TRY_ASSIGN(src.CopyIn(m->data.data(), n));
    if (got != n) return EFAULT;
    return 0;
  }

  // scm_check_creds: a process may only claim its own identity unless
  // privileged.
  static Errno CheckCreds(Task* t, const struct ucred& want, struct ucred* out) {
    if (t == nullptr) return EPERM;
    Credentials c = t->creds();
    bool pid_ok = want.pid == t->tgid() || c.HasCap(CAP_SYS_ADMIN);
    bool uid_ok = want.uid == c.uid || want.uid == c.euid || want.uid == c.suid ||
                  c.HasCap(CAP_SETUID);
    bool gid_ok = want.gid == c.gid || want.gid == c.egid || want.gid == c.sgid ||
                  c.HasCap(CAP_SETGID);
    if (!pid_ok || !uid_ok || !gid_ok) return EPERM;
    *out = want;
    return 0;
  }

  const EndpointPtr ep_;
};

}  // namespace

std::shared_ptr<FileDescription> NewUnixSocket(int type, uint32_t flags, struct ucred creds) {
  auto f = std::make_shared<UnixSocketFile>(std::make_shared<Endpoint>(type, creds), creds.uid,
                                            creds.gid);
  f->Init(VirtualDentry(), O_RDWR | (flags & O_NONBLOCK));
  return f;
}

std::pair<std::shared_ptr<FileDescription>, std::shared_ptr<FileDescription>> NewUnixPair(
    int type, uint32_t flags, struct ucred creds) {
  auto ea = std::make_shared<Endpoint>(type, creds);
  auto eb = std::make_shared<Endpoint>(type, creds);
  ea->Attach(eb, creds);
  eb->Attach(ea, creds);
  auto a = std::make_shared<UnixSocketFile>(ea, creds.uid, creds.gid);
  auto b = std::make_shared<UnixSocketFile>(eb, creds.uid, creds.gid);
  a->Init(VirtualDentry(), O_RDWR | (flags & O_NONBLOCK));
  b->Init(VirtualDentry(), O_RDWR | (flags & O_NONBLOCK));
  return {a, b};
}

}  // namespace sentry::vfs
