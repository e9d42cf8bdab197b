#include "fs/socket/socket.h"

#include <sys/stat.h>

#include <cstring>

#include "absl/strings/str_format.h"

namespace sentry::vfs {
namespace {

class SockFsImpl : public Filesystem {
 public:
  std::string_view Name() const override { return "sockfs"; }
};

// Options Linux keeps and reports back without this sandbox acting on
// them, with the size of their value and their default.
struct StoredOption {
  int name;
  size_t size;  // sizeof(int), or sizeof(struct linger)
  int def;
};
constexpr StoredOption kStored[] = {
    {SO_REUSEADDR, sizeof(int), 0},  {SO_REUSEPORT, sizeof(int), 0},
    {SO_KEEPALIVE, sizeof(int), 0},  {SO_BROADCAST, sizeof(int), 0},
    {SO_DONTROUTE, sizeof(int), 0},  {SO_OOBINLINE, sizeof(int), 0},
    {SO_PRIORITY, sizeof(int), 0},   {SO_RCVLOWAT, sizeof(int), 1},
    {SO_SNDLOWAT, sizeof(int), 1},   {SO_TIMESTAMP, sizeof(int), 0},
    {SO_TIMESTAMPNS, sizeof(int), 0}, {SO_PASSSEC, sizeof(int), 0},
    {SO_MARK, sizeof(int), 0},       {SO_LINGER, sizeof(struct linger), 0},
    {SO_BUSY_POLL, sizeof(int), 0},  {SO_INCOMING_CPU, sizeof(int), 0},
};

const StoredOption* FindStored(int name) {
  for (const StoredOption& o : kStored) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

// Linux normalizes boolean options to 0/1 when it reads them back.
bool IsBoolean(int name) {
  return name != SO_PRIORITY && name != SO_RCVLOWAT && name != SO_SNDLOWAT && name != SO_MARK &&
         name != SO_LINGER && name != SO_BUSY_POLL && name != SO_INCOMING_CPU;
}

}  // namespace

Filesystem& SockFs() {
  static SockFsImpl* fs = new SockFsImpl();
  return *fs;
}

ErrorOr<int> OptionInt(const std::vector<uint8_t>& val) {
  if (val.size() < sizeof(int)) return Err(EINVAL);
  int v;
  std::memcpy(&v, val.data(), sizeof(v));
  return v;
}

SocketBase::SocketBase(uint32_t uid, uint32_t gid)
    : ino_(NextInodeNumber()), uid_(uid), gid_(gid), created_(Now()) {}

SysRet SocketBase::Read(Task* t, IOSequence& dst) {
  int msg_flags = 0;
  return RecvMsg(t, dst, 0, nullptr, nullptr, &msg_flags);
}

SysRet SocketBase::Write(Task* t, IOSequence& src) {
  return SendMsg(t, src, 0, nullptr, nullptr);
}

ErrorOr<Attr> SocketBase::Stat() {
  Attr a;
  a.dev = SockFs().dev();
  a.ino = ino_;
  a.mode = S_IFSOCK | 0777;
  a.nlink = 1;
  a.uid = uid_;
  a.gid = gid_;
  a.blksize = 4096;
  a.atime = a.mtime = a.ctime = a.btime = created_;
  return a;
}

std::string SocketBase::AnonName() const { return absl::StrFormat("socket:[%d]", ino_); }

std::vector<uint8_t> SocketBase::IntBytes(int v) {
  std::vector<uint8_t> b(sizeof(v));
  std::memcpy(b.data(), &v, sizeof(v));
  return b;
}

ErrorOr<std::vector<uint8_t>> SocketBase::GetStoredOption(int name) {
  const StoredOption* o = FindStored(name);
  if (o == nullptr) return Err(ENOPROTOOPT);
  absl::MutexLock l(&opt_mu_);
  for (const auto& [n, v] : stored_) {
    if (n == name) return v;
  }
  if (o->size != sizeof(int)) return std::vector<uint8_t>(o->size, 0);
  return IntBytes(o->def);
}

Errno SocketBase::SetStoredOption(int name, const std::vector<uint8_t>& val) {
  const StoredOption* o = FindStored(name);
  if (o == nullptr) return ENOPROTOOPT;
  if (val.size() < o->size) return EINVAL;
  std::vector<uint8_t> v(val.begin(), val.begin() + static_cast<ptrdiff_t>(o->size));
  if (o->size == sizeof(int)) {
    int x = *OptionInt(v);
    if (IsBoolean(name)) x = x != 0;
    // SO_RCVLOWAT 0 means 1 (sock_setsockopt).
    if (name == SO_RCVLOWAT && x <= 0) x = 1;
    v = IntBytes(x);
  } else if (name == SO_LINGER) {
    struct linger lg;
    std::memcpy(&lg, v.data(), sizeof(lg));
    lg.l_onoff = lg.l_onoff != 0;
    std::memcpy(v.data(), &lg, sizeof(lg));
  }
  absl::MutexLock l(&opt_mu_);
  for (auto& [n, old] : stored_) {
    if (n == name) {
      old = std::move(v);
      return 0;
    }
  }
  stored_.emplace_back(name, std::move(v));
  return 0;
}

}  // namespace sentry::vfs
