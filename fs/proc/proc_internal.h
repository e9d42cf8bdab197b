// procfs internals shared by its .cc files: the file system object, the
// reference a /proc/<pid> entry keeps to its task, and the builders of
// each part of the tree.
#ifndef FS_PROC_PROC_INTERNAL_H_
#define FS_PROC_PROC_INTERNAL_H_

#include <memory>
#include <string>
#include <string_view>

#include "fs/kernfs/kernfs.h"
#include "fs/proc/format.h"
#include "fs/proc/proc.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"

namespace sentry::proc {

class ProcFs : public kernfs::KernFs {
 public:
  ProcFs(Kernel* k, ProcOptions opts);
  Kernel* kernel() const { return k_; }
  const ProcOptions& opts() const { return opts_; }
  // Wall-clock second the sandbox booted (/proc/stat's btime).
  int64_t boot_time() const { return boot_time_; }
  const std::string& boot_id() const { return boot_id_; }

  // Where /proc/<pid>/fd/N leads for a file without a path (a pipe, a host
  // file, a socket): a dentry on a detached internal mount whose inode
  // reopens that file (see proxy.cc).
  vfs::VirtualDentry ProxyFor(std::shared_ptr<vfs::FileDescription> f);

 private:
  Kernel* const k_;
  const ProcOptions opts_;
  const int64_t boot_time_;
  const std::string boot_id_;
  std::shared_ptr<kernfs::KernFs> anon_fs_;
  std::shared_ptr<vfs::Mount> anon_mount_;
};

// Which task a /proc/<pid> or /proc/<pid>/task/<tid> entry shows. It does
// not keep the pid in use: every access checks that the tid still names
// the same task, so an entry of a reaped process fails with ESRCH instead
// of showing whoever got the pid next.
struct TaskRef {
  ProcFs* fs = nullptr;
  int32_t tid = 0;
  bool thread = false;  // task/<tid>: one thread, not the whole process
  std::weak_ptr<Task> task;

  ErrorOr<std::shared_ptr<Task>> Get() const;
  Kernel* kernel() const { return fs->kernel(); }
};

// A TaskRef for tid `tid`, or ENOENT when no such task exists.
ErrorOr<TaskRef> RefFor(ProcFs* fs, int32_t tid, bool thread);

// A stable inode number for entry `name` of a task's directory (find(1)
// wants stat to agree across lookups; the dentries are not cached).
uint64_t TaskIno(const TaskRef& r, std::string_view name);

// Linux's name_to_int: a decimal number without leading zeros, or -1.
int64_t ParseDecimalName(std::string_view name);

// ptrace_may_access(PTRACE_MODE_READ_FSCREDS), simplified to one user
// namespace: may the caller in `ctx` look through `target`'s magic links
// (fd/N, cwd, root, exe)? Its own process, a matching uid and gid, or
// CAP_SYS_PTRACE. EACCES otherwise; the Sentry itself (no task) may.
Errno MayAccessTask(const vfs::PathContext& ctx, Task* target);

// The owner of a task's entries: its euid/egid (root once it is gone).
void FillTaskOwner(const TaskRef& r, vfs::Attr& a);

// The resources a task's entries show: the task's own or, for a process
// whose leader thread has exited, any live thread's. Null for a zombie.
std::shared_ptr<MemoryManager> MMOf(const TaskRef& r, Task* t);
std::shared_ptr<FDTable> FDsOf(const TaskRef& r, Task* t);
std::shared_ptr<FSContext> FSOf(const TaskRef& r, Task* t);

// Gives an inode of the tree the owner of the task it shows.
template <typename Base>
class Owned : public Base {
 public:
  template <typename... Args>
  explicit Owned(TaskRef r, Args&&... args) : Base(std::forward<Args>(args)...), ref_(std::move(r)) {}

 protected:
  Errno FillAttr(vfs::Attr& a) override {
    TRY(Base::FillAttr(a));
    FillTaskOwner(ref_, a);
    return 0;
  }
  const TaskRef ref_;
};

// Gathers stat/status data (task_info.cc). `reader` is the task reading,
// which can account its own running CPU time.
ErrorOr<TaskInfo> GatherTaskInfo(const TaskRef& r, Task* reader);
// The mounts visible from `root`, in tree order.
std::vector<MountRow> GatherMounts(vfs::VFS* vfs, const vfs::VirtualDentry& root);

// Parts of the tree.
std::shared_ptr<vfs::Inode> NewPidDir(const TaskRef& r);
std::shared_ptr<vfs::Inode> NewTaskDir(const TaskRef& r, uint64_t ino);
std::shared_ptr<vfs::Inode> NewFdDir(const TaskRef& r, uint64_t ino);
std::shared_ptr<vfs::Inode> NewFdInfoDir(const TaskRef& r, uint64_t ino);
// cwd, root, exe.
enum class LinkKind { kCwd, kRoot, kExe };
std::shared_ptr<vfs::Inode> NewTaskLink(const TaskRef& r, LinkKind kind, uint64_t ino);
// /proc/sys (sysctl.cc).
void BuildSysctl(ProcFs* fs, kernfs::StaticDir* sys);
// A random (version 4) UUID: boot_id, /proc/sys/kernel/random/uuid.
std::string NewUuid();

// Per-task file contents (pid_files.cc).
ErrorOr<std::string> ReadCmdline(const TaskRef& r, Task* reader);
ErrorOr<std::string> ReadEnviron(const TaskRef& r, Task* reader);
ErrorOr<std::string> ReadAuxv(const TaskRef& r, Task* reader);
ErrorOr<std::string> ReadComm(const TaskRef& r, Task* reader);
ErrorOr<std::string> ReadLimits(const TaskRef& r, Task* reader);
ErrorOr<std::string> ReadMaps(const TaskRef& r, Task* reader);
ErrorOr<std::string> ReadSmaps(const TaskRef& r, Task* reader);
ErrorOr<std::string> ReadMounts(const TaskRef& r, Task* reader);
ErrorOr<std::string> ReadMountinfo(const TaskRef& r, Task* reader);
ErrorOr<std::string> ReadStat(const TaskRef& r, Task* reader);
ErrorOr<std::string> ReadStatus(const TaskRef& r, Task* reader);
ErrorOr<std::string> ReadStatm(const TaskRef& r, Task* reader);
ErrorOr<std::string> ReadOomScoreAdj(const TaskRef& r, Task* reader);
SysRet WriteComm(const TaskRef& r, Task* writer, std::string_view data);
SysRet WriteOomScoreAdj(const TaskRef& r, Task* writer, std::string_view data);

}  // namespace sentry::proc

#endif  // FS_PROC_PROC_INTERNAL_H_
