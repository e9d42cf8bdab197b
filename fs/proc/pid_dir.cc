// /proc/<pid>/ and /proc/<pid>/task/<tid>/: one table of entries, each
// made fresh at lookup (the VFS does not cache /proc dentries) with a
// stable inode number. Everything is owned by the task's euid/egid.
#include <dirent.h>

#include <algorithm>

#include "absl/strings/str_format.h"
#include "fs/proc/proc_internal.h"

namespace sentry::proc {
namespace {

using GenFn = ErrorOr<std::string> (*)(const TaskRef&, Task* reader);
using WriteFn = SysRet (*)(const TaskRef&, Task* writer, std::string_view data);
using MakeFn = std::shared_ptr<vfs::Inode> (*)(const TaskRef&, uint64_t ino);

struct Entry {
  const char* name;
  uint32_t mode;        // S_IFMT | permissions
  bool process_only;    // absent from task/<tid>/
  GenFn gen = nullptr;  // regular files
  WriteFn write = nullptr;
  MakeFn make = nullptr;  // directories and links
};

ErrorOr<std::string> ReadCgroup(const TaskRef& r, Task*) {
  TRY(r.Get());
  return std::string("0::/\n");  // cgroup v2, everyone in the root group
}
ErrorOr<std::string> ReadLoginuid(const TaskRef& r, Task*) {
  TRY(r.Get());
  return std::string("4294967295");  // AUDIT_UID_UNSET, without a newline as Linux prints it
}
// Setting the audit login uid needs CAP_AUDIT_CONTROL, which no task in
// the sandbox has (there is no audit subsystem to feed).
SysRet WriteLoginuid(const TaskRef& r, Task*, std::string_view) { return SysRet::Err(EPERM); }
ErrorOr<std::string> ReadOomScore(const TaskRef& r, Task*) {
  TRY(r.Get());
  return std::string("0\n");
}

std::shared_ptr<vfs::Inode> MakeEmptyDir(const TaskRef& r, uint64_t ino, uint32_t perm) {
  return std::make_shared<Owned<kernfs::StaticDir>>(r, r.fs, perm, ino);
}

const Entry kEntries[] = {
    {"attr", S_IFDIR | 0555, false, nullptr, nullptr,
     [](const TaskRef& r, uint64_t ino) { return MakeEmptyDir(r, ino, 0555); }},
    {"auxv", S_IFREG | 0400, false, ReadAuxv},
    {"cgroup", S_IFREG | 0444, false, ReadCgroup},
    {"cmdline", S_IFREG | 0444, false, ReadCmdline},
    {"comm", S_IFREG | 0644, false, ReadComm, WriteComm},
    {"cwd", S_IFLNK | 0777, false, nullptr, nullptr,
     [](const TaskRef& r, uint64_t ino) { return NewTaskLink(r, LinkKind::kCwd, ino); }},
    {"environ", S_IFREG | 0400, false, ReadEnviron},
    {"exe", S_IFLNK | 0777, false, nullptr, nullptr,
     [](const TaskRef& r, uint64_t ino) { return NewTaskLink(r, LinkKind::kExe, ino); }},
    {"fd", S_IFDIR | 0500, false, nullptr, nullptr, NewFdDir},
    {"fdinfo", S_IFDIR | 0555, false, nullptr, nullptr, NewFdInfoDir},
    {"limits", S_IFREG | 0444, false, ReadLimits},
    {"loginuid", S_IFREG | 0644, false, ReadLoginuid, WriteLoginuid},
    {"maps", S_IFREG | 0444, false, ReadMaps},
    {"mountinfo", S_IFREG | 0444, false, ReadMountinfo},
    {"mounts", S_IFREG | 0444, false, ReadMounts},
    {"ns", S_IFDIR | 0511, false, nullptr, nullptr,
     [](const TaskRef& r, uint64_t ino) { return MakeEmptyDir(r, ino, 0511); }},
    {"oom_score", S_IFREG | 0444, false, ReadOomScore},
    {"oom_score_adj", S_IFREG | 0644, false, ReadOomScoreAdj, WriteOomScoreAdj},
    {"root", S_IFLNK | 0777, false, nullptr, nullptr,
     [](const TaskRef& r, uint64_t ino) { return NewTaskLink(r, LinkKind::kRoot, ino); }},
    {"smaps", S_IFREG | 0444, false, ReadSmaps},
    {"stat", S_IFREG | 0444, false, ReadStat},
    {"statm", S_IFREG | 0444, false, ReadStatm},
    {"status", S_IFREG | 0444, false, ReadStatus},
    {"task", S_IFDIR | 0555, true, nullptr, nullptr, NewTaskDir},
};

std::shared_ptr<vfs::Inode> MakeEntry(const TaskRef& r, const Entry& e) {
  uint64_t ino = TaskIno(r, e.name);
  if (e.make != nullptr) return e.make(r, ino);
  kernfs::Generator gen = [r, fn = e.gen](Task* reader) { return fn(r, reader); };
  kernfs::Writer w;
  if (e.write != nullptr) {
    w = [r, fn = e.write](Task* writer, std::string_view d, int64_t) { return fn(r, writer, d); };
  }
  return std::make_shared<Owned<kernfs::DataFile>>(r, r.fs, e.mode & 07777, std::move(gen),
                                                   std::move(w),
                                                   kernfs::ReadOnlyPolicy::kFailWrite, ino);
}

class PidDir : public Owned<kernfs::DirBase> {
 public:
  explicit PidDir(const TaskRef& r) : Owned(r, r.fs, 0555, TaskIno(r, "")) {}

  ErrorOr<std::shared_ptr<vfs::Inode>> Lookup(std::string_view name) override {
    if (!ref_.Get().ok()) return Err(ENOENT);
    for (const Entry& e : kEntries) {
      if (e.process_only && ref_.thread) continue;
      if (name == e.name) return MakeEntry(ref_, e);
    }
    return Err(ENOENT);
  }

  ErrorOr<std::vector<vfs::DirEntry>> ReadDir() override {
    if (!ref_.Get().ok()) return Err(ENOENT);
    std::vector<vfs::DirEntry> out;
    for (const Entry& e : kEntries) {
      if (e.process_only && ref_.thread) continue;
      out.push_back(vfs::DirEntry{e.name, TaskIno(ref_, e.name), vfs::DirentType(e.mode)});
    }
    return out;
  }

 protected:
  Errno FillAttr(vfs::Attr& a) override {
    TRY(Owned::FillAttr(a));
    for (const Entry& e : kEntries) {
      if ((e.mode & S_IFMT) == S_IFDIR && !(e.process_only && ref_.thread)) a.nlink++;
    }
    return 0;
  }
};

// task/: the threads of the process.
class TaskDir : public Owned<kernfs::DirBase> {
 public:
  TaskDir(const TaskRef& r, uint64_t ino) : Owned(r, r.fs, 0555, ino) {}

  ErrorOr<std::shared_ptr<vfs::Inode>> Lookup(std::string_view name) override {
    int64_t tid = ParseDecimalName(name);
    if (tid <= 0) return Err(ENOENT);
    auto self = ref_.Get();
    if (!self.ok()) return Err(ENOENT);
    TaskRef child = TRY_ASSIGN(RefFor(ref_.fs, static_cast<int32_t>(tid), /*thread=*/true));
    std::shared_ptr<Task> ct = child.task.lock();  // null if reaped meanwhile
    if (!ct || ct->tg() != (*self)->tg()) return Err(ENOENT);
    return NewPidDir(child);
  }

  ErrorOr<std::vector<vfs::DirEntry>> ReadDir() override {
    std::shared_ptr<Task> self = TRY_ASSIGN(ref_.Get());
    std::vector<int32_t> tids;
    {
      absl::MutexLock l(&ref_.kernel()->tasks_mu_);
      for (Task* t : self->tg()->tasks) tids.push_back(t->tid());
    }
    // A zombie whose threads are all gone still lists its leader.
    if (tids.empty()) tids.push_back(self->tgid());
    std::sort(tids.begin(), tids.end());
    std::vector<vfs::DirEntry> out;
    for (int32_t tid : tids) {
      TaskRef c{ref_.fs, tid, true, {}};
      out.push_back(vfs::DirEntry{absl::StrFormat("%d", tid), TaskIno(c, ""), DT_DIR});
    }
    return out;
  }
};

}  // namespace

std::shared_ptr<vfs::Inode> NewPidDir(const TaskRef& r) { return std::make_shared<PidDir>(r); }

std::shared_ptr<vfs::Inode> NewTaskDir(const TaskRef& r, uint64_t ino) {
  return std::make_shared<TaskDir>(r, ino);
}

}  // namespace sentry::proc
