// --strace formatting: decoded arguments and results, strace(1)-like.
#include <fcntl.h>
#include <signal.h>

#include <cstring>

#include "absl/strings/str_format.h"
#include "sentry/kernel/task.h"
#include "syscalls/table.h"

namespace sentry {
namespace {

constexpr size_t kMaxShown = 64;

std::string Quote(const std::string& s, bool truncated) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          out += absl::StrFormat("\\x%02x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += "\"";
  if (truncated) out += "...";
  return out;
}

std::string Bytes(Task& t, uint64_t addr, uint64_t len) {
  if (addr == 0) return "NULL";
  size_t n = std::min<uint64_t>(len, kMaxShown);
  std::string buf(n, '\0');
  size_t got = t.mm()->CopyInPartial(UserAddr(addr), buf.data(), n);
  if (got == 0 && n > 0) return absl::StrFormat("%#x", addr);
  buf.resize(got);
  return Quote(buf, len > got);
}

std::string OpenFlags(uint64_t f) {
  std::string s;
  switch (f & O_ACCMODE) {
    case O_RDONLY: s = "O_RDONLY"; break;
    case O_WRONLY: s = "O_WRONLY"; break;
    case O_RDWR: s = "O_RDWR"; break;
    default: s = "O_ACCMODE"; break;
  }
  static const struct { uint64_t bit; const char* name; } kFlags[] = {
      {O_CREAT, "O_CREAT"}, {O_EXCL, "O_EXCL"}, {O_NOCTTY, "O_NOCTTY"}, {O_TRUNC, "O_TRUNC"},
      {O_APPEND, "O_APPEND"}, {O_NONBLOCK, "O_NONBLOCK"}, {O_DSYNC, "O_DSYNC"},
      {O_DIRECT, "O_DIRECT"}, {O_LARGEFILE, "O_LARGEFILE"}, {O_DIRECTORY, "O_DIRECTORY"},
      {O_NOFOLLOW, "O_NOFOLLOW"}, {O_NOATIME, "O_NOATIME"}, {O_CLOEXEC, "O_CLOEXEC"},
      {O_PATH, "O_PATH"}, {__O_TMPFILE, "O_TMPFILE"}, {O_SYNC, "O_SYNC"}};
  uint64_t known = O_ACCMODE;
  for (const auto& k : kFlags) {
    if ((f & k.bit) == k.bit) s += std::string("|") + k.name;
    known |= k.bit;
  }
  if (f & ~known) s += absl::StrFormat("|%#x", f & ~known);
  return s;
}

std::string Strv(Task& t, uint64_t addr) {
  if (addr == 0) return "NULL";
  std::string out = "[";
  for (int i = 0; i < 8; i++) {
    uint64_t p;
    if (t.mm()->CopyIn(UserAddr(addr + 8 * static_cast<uint64_t>(i)), &p, 8) != 0) {
      return out + "?]";
    }
    if (p == 0) return out + "]";
    if (i > 0) out += ", ";
    auto s = t.mm()->CopyInString(UserAddr(p), kMaxShown);
    out += s.ok() ? Quote(*s, false) : absl::StrFormat("%#x", p);
  }
  return out + ", ...]";
}

std::string Format(Task& t, Arg kind, const SyscallArgs& a, int i, SysRet* r) {
  uint64_t v = a[i];
  switch (kind) {
    case Arg::kNone: return "";
    case Arg::kInt: return absl::StrFormat("%d", static_cast<int64_t>(v));
    case Arg::kUInt: return absl::StrFormat("%u", v);
    case Arg::kHex: return absl::StrFormat("%#x", v);
    case Arg::kOct: return absl::StrFormat("%#o", v);
    case Arg::kPtr: return v == 0 ? "NULL" : absl::StrFormat("%#x", v);
    case Arg::kFd:
      return static_cast<int32_t>(v) == AT_FDCWD ? "AT_FDCWD"
                                                 : absl::StrFormat("%d", static_cast<int32_t>(v));
    case Arg::kPath: {
      if (v == 0) return "NULL";
      auto s = t.mm()->CopyInString(UserAddr(v), 4096);
      return s.ok() ? Quote(*s, false) : absl::StrFormat("%#x", v);
    }
    case Arg::kInBuf: return Bytes(t, v, i + 1 < 6 ? a[i + 1] : 0);
    case Arg::kOutBuf:
      if (r == nullptr) return absl::StrFormat("%#x", v);
      return r->ok() ? Bytes(t, v, static_cast<uint64_t>(r->value())) : absl::StrFormat("%#x", v);
    case Arg::kSignal: {
      int s = static_cast<int>(v);
      const char* n = (s > 0 && s < NSIG) ? sigabbrev_np(s) : nullptr;
      return n ? absl::StrFormat("SIG%s", n) : absl::StrFormat("%d", s);
    }
    case Arg::kOpenFlags: return OpenFlags(v);
    case Arg::kStrv: return Strv(t, v);
  }
  return "?";
}

std::string Join(Task& t, const SyscallInfo& info, const SyscallArgs& a, SysRet* r) {
  std::string s = std::string(info.name) + "(";
  bool first = true;
  for (int i = 0; i < 6; i++) {
    if (info.args[static_cast<size_t>(i)] == Arg::kNone) break;
    if (!first) s += ", ";
    first = false;
    s += Format(t, info.args[static_cast<size_t>(i)], a, i, r);
  }
  return s + ")";
}

}  // namespace

std::string FormatSyscallEntry(Task& t, const SyscallInfo& info, const SyscallArgs& a) {
  // Output buffers are shown at exit, when their contents exist.
  for (Arg k : info.args)
    if (k == Arg::kOutBuf) return "";
  return Join(t, info, a, nullptr);
}

std::string FormatSyscallExit(Task& t, const SyscallInfo& info, const SyscallArgs& a, SysRet r) {
  std::string prefix;
  bool deferred = false;
  for (Arg k : info.args)
    if (k == Arg::kOutBuf) deferred = true;
  if (deferred) prefix = Join(t, info, a, &r);
  int e = r.error();
  if (e == 0) return absl::StrFormat("%s = %d", prefix, r.value());
  const char* name = strerrorname_np(e);
  if (e >= 512) {
    static const char* kRestart[] = {"ERESTARTSYS", "ERESTARTNOINTR", "ERESTARTNOHAND", "ENOIOCTLCMD",
                                     "ERESTART_RESTARTBLOCK"};
    name = e - 512 < 5 ? kRestart[e - 512] : "E?";
    return absl::StrFormat("%s = ? %s (To be restarted)", prefix, name);
  }
  return absl::StrFormat("%s = -1 %s (%s)", prefix, name ? name : "E?", strerror(e));
}

}  // namespace sentry
