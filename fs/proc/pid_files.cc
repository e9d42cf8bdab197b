// Contents of the files in /proc/<pid>/ (fs/proc/base.c, array.c,
// task_mmu.c). A process that has become a zombie has no memory, files or
// fs context any more: its cmdline, environ, maps and mounts read empty,
// as on Linux.
#include <cctype>
#include <cstdlib>

#include "absl/strings/str_format.h"
#include "fs/proc/proc_internal.h"

namespace sentry::proc {
namespace {

constexpr int kCapSysResource = 24;
// Bound on what is copied out of an argument area (MAX_ARG_STRLEN-ish
// areas can be large; Linux streams them, we snapshot).
constexpr size_t kMaxArea = 2 << 20;

std::string ReadArea(MemoryManager* mm, uint64_t start, size_t len) {
  std::string s(std::min(len, kMaxArea), '\0');
  s.resize(mm->CopyInPartial(UserAddr(start), s.data(), s.size()));
  return s;
}

}  // namespace

ErrorOr<std::string> ReadCmdline(const TaskRef& r, Task*) {
  auto t = TRY_ASSIGN(r.Get());
  auto mm = MMOf(r, t.get());
  if (!mm) return std::string();
  AddrRange a = mm->argv_range();
  if (a.empty()) return std::string();
  std::string s = ReadArea(mm.get(), a.start, a.length());
  // get_mm_cmdline: a program that overwrote the final NUL of its argument
  // area (setproctitle) shows one string, which may run on into the
  // environment, up to its first NUL or a page.
  if (!s.empty() && s.back() != '\0') {
    s = ReadArea(mm.get(), a.start, kPageSize);
    size_t nul = s.find('\0');
    if (nul != std::string::npos) s.resize(nul + 1);
  }
  return s;
}

ErrorOr<std::string> ReadEnviron(const TaskRef& r, Task*) {
  auto t = TRY_ASSIGN(r.Get());
  auto mm = MMOf(r, t.get());
  if (!mm) return std::string();
  AddrRange e = mm->envp_range();
  if (e.empty()) return std::string();
  return ReadArea(mm.get(), e.start, e.length());
}

ErrorOr<std::string> ReadAuxv(const TaskRef& r, Task*) {
  auto t = TRY_ASSIGN(r.Get());
  auto mm = MMOf(r, t.get());
  if (!mm) return std::string();
  std::vector<uint64_t> v = mm->auxv();
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(uint64_t));
}

ErrorOr<std::string> ReadComm(const TaskRef& r, Task*) {
  auto t = TRY_ASSIGN(r.Get());
  return t->comm() + "\n";
}

// comm_write: a thread group may rename its own threads; the name is the
// first 15 bytes written, newline and all (Linux keeps it too).
SysRet WriteComm(const TaskRef& r, Task* writer, std::string_view data) {
  auto t = TRY_ASSIGN(r.Get());
  if (writer == nullptr || writer->tg() != t->tg()) return SysRet::Err(EINVAL);
  std::string_view name = data.substr(0, 15);
  size_t nul = name.find('\0');
  if (nul != std::string_view::npos) name = name.substr(0, nul);
  t->SetComm(name);
  return static_cast<int64_t>(data.size());
}

ErrorOr<std::string> ReadLimits(const TaskRef& r, Task*) {
  auto t = TRY_ASSIGN(r.Get());
  std::array<struct rlimit, RLIM_NLIMITS> l;
  for (int i = 0; i < RLIM_NLIMITS; i++) l[i] = t->tg()->limits.Get(i);
  return FormatLimits(l);
}

ErrorOr<std::string> ReadMaps(const TaskRef& r, Task*) {
  auto t = TRY_ASSIGN(r.Get());
  auto mm = MMOf(r, t.get());
  return mm ? FormatMaps(mm->VmaStats()) : std::string();
}

ErrorOr<std::string> ReadSmaps(const TaskRef& r, Task*) {
  auto t = TRY_ASSIGN(r.Get());
  auto mm = MMOf(r, t.get());
  return mm ? FormatSmaps(mm->VmaStats()) : std::string();
}

// Mounts as seen from the process's own root (show_vfsmnt uses the
// reader-independent root of the process whose file this is).
ErrorOr<std::string> ReadMounts(const TaskRef& r, Task*) {
  auto t = TRY_ASSIGN(r.Get());
  auto fsc = FSOf(r, t.get());
  if (!fsc) return std::string();
  return FormatMounts(GatherMounts(r.kernel()->vfs(), fsc->root()));
}

ErrorOr<std::string> ReadMountinfo(const TaskRef& r, Task*) {
  auto t = TRY_ASSIGN(r.Get());
  auto fsc = FSOf(r, t.get());
  if (!fsc) return std::string();
  return FormatMountinfo(GatherMounts(r.kernel()->vfs(), fsc->root()));
}

ErrorOr<std::string> ReadStat(const TaskRef& r, Task* reader) {
  return FormatStat(TRY_ASSIGN(GatherTaskInfo(r, reader)));
}
ErrorOr<std::string> ReadStatus(const TaskRef& r, Task* reader) {
  return FormatStatus(TRY_ASSIGN(GatherTaskInfo(r, reader)));
}
ErrorOr<std::string> ReadStatm(const TaskRef& r, Task* reader) {
  return FormatStatm(TRY_ASSIGN(GatherTaskInfo(r, reader)));
}

ErrorOr<std::string> ReadOomScoreAdj(const TaskRef& r, Task*) {
  auto t = TRY_ASSIGN(r.Get());
  return absl::StrFormat("%d\n", t->tg()->oom_score_adj.load());
}

// oom_score_adj_write: an integer in [-1000, 1000]; lowering it below its
// current value takes CAP_SYS_RESOURCE.
SysRet WriteOomScoreAdj(const TaskRef& r, Task* writer, std::string_view data) {
  auto t = TRY_ASSIGN(r.Get());
  std::string s(data.substr(0, 23));
  while (!s.empty() && isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && isspace(static_cast<unsigned char>(s[i]))) i++;
  if (i == s.size()) return SysRet::Err(EINVAL);
  char* end = nullptr;
  long v = strtol(s.c_str() + i, &end, 10);
  if (end == nullptr || *end != '\0' || v < -1000 || v > 1000) return SysRet::Err(EINVAL);
  std::atomic<int>& adj = t->tg()->oom_score_adj;
  if (v < adj.load() && (writer == nullptr || !writer->creds().HasCap(kCapSysResource))) {
    return SysRet::Err(EACCES);
  }
  adj.store(static_cast<int>(v));
  return static_cast<int64_t>(data.size());
}

}  // namespace sentry::proc
