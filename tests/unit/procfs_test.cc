// /proc on a kernel with hand-built processes: the tree, the per-process
// files' contents and permissions, magic links, and what happens when a
// process goes away.
#include <sys/sysmacros.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <regex>

#include "fs/pipe/pipe.h"
#include "tests/unit/proc_test_util.h"

namespace sentry::testing {
namespace {

class ProcfsTest : public KernelFixture {};

TEST_F(ProcfsTest, SelfAndThreadSelfNameTheCaller) {
  auto a = NewProcess();
  auto b = NewProcess();
  auto b2 = NewThread(b);
  EXPECT_EQ(*ReadLink(a.get(), "/proc/self"), std::to_string(a->tgid()));
  EXPECT_EQ(*ReadLink(b2.get(), "/proc/self"), std::to_string(b->tgid()));
  EXPECT_EQ(*ReadLink(b2.get(), "/proc/thread-self"),
            absl::StrFormat("%d/task/%d", b->tgid(), b2->tid()));
  // Without a calling task there is no "self".
  EXPECT_EQ(ReadLink(nullptr, "/proc/self").error(), ENOENT);
  // Following it reaches the caller's own directory.
  EXPECT_EQ(*ReadFile(a.get(), "/proc/self/comm"), "testproc\n");
  ASSERT_OK_ASSIGN(st, ReadFile(b2.get(), "/proc/thread-self/stat"));
  EXPECT_EQ(st.substr(0, st.find(' ')), std::to_string(b2->tid()));
}

TEST_F(ProcfsTest, RootListsProcessesAndFixedEntries) {
  auto a = NewProcess();
  auto b = NewProcess();
  auto b2 = NewThread(b);
  ASSERT_OK_ASSIGN(names, List(nullptr, "/proc"));
  for (const char* n : {"self", "thread-self", "cpuinfo", "meminfo", "stat", "uptime", "loadavg",
                        "version", "filesystems", "mounts", "sys"}) {
    EXPECT_TRUE(Has(names, n)) << n;
  }
  EXPECT_TRUE(Has(names, std::to_string(a->tgid())));
  EXPECT_TRUE(Has(names, std::to_string(b->tgid())));
  EXPECT_FALSE(Has(names, std::to_string(b2->tid())));  // threads are not listed...
  ASSERT_OK_ASSIGN(hidden, Stat(nullptr, "/proc/" + std::to_string(b2->tid())));
  EXPECT_TRUE(hidden.IsDir());  // ...but can be looked up
  EXPECT_EQ(Stat(nullptr, "/proc/999999").error(), ENOENT);
  EXPECT_EQ(Stat(nullptr, "/proc/01").error(), ENOENT);
  EXPECT_FALSE(Has(names, "kmsg"));
  EXPECT_EQ(*ReadLink(nullptr, "/proc/mounts"), "self/mounts");
}

TEST_F(ProcfsTest, PidDirectoryEntriesAndPermissions) {
  ProcessSpec spec;
  spec.creds.uid = spec.creds.euid = spec.creds.suid = spec.creds.fsuid = 1000;
  spec.creds.gid = spec.creds.egid = spec.creds.sgid = spec.creds.fsgid = 1001;
  auto t = NewProcess(spec);
  ASSERT_OK_ASSIGN(names, List(nullptr, P(t, "")));
  for (const char* n : {"cmdline", "environ", "comm", "status", "stat", "statm", "maps", "smaps",
                        "exe", "cwd", "root", "fd", "fdinfo", "task", "mounts", "mountinfo",
                        "limits", "auxv", "oom_score_adj", "loginuid", "cgroup", "ns"}) {
    EXPECT_TRUE(Has(names, n)) << n;
  }
  struct Want {
    const char* name;
    uint32_t mode;
  } want[] = {{"", S_IFDIR | 0555},        {"status", S_IFREG | 0444}, {"environ", S_IFREG | 0400},
              {"auxv", S_IFREG | 0400},    {"comm", S_IFREG | 0644},   {"fd", S_IFDIR | 0500},
              {"fdinfo", S_IFDIR | 0555},  {"ns", S_IFDIR | 0511},     {"task", S_IFDIR | 0555},
              {"oom_score_adj", S_IFREG | 0644}};
  for (const Want& w : want) {
    ASSERT_OK_ASSIGN(a, Stat(nullptr, P(t, w.name)));
    EXPECT_EQ(a.mode, w.mode) << w.name;
    EXPECT_EQ(a.uid, 1000u) << w.name;
    EXPECT_EQ(a.gid, 1001u) << w.name;
  }
  ASSERT_OK_ASSIGN(exe, Stat(nullptr, P(t, "exe"), /*follow=*/false));
  EXPECT_EQ(exe.mode, S_IFLNK | 0777u);
  // Inode numbers are stable although nothing is cached.
  EXPECT_EQ(Stat(nullptr, P(t, "status"))->ino, Stat(nullptr, P(t, "status"))->ino);
  EXPECT_NE(Stat(nullptr, P(t, "status"))->ino, Stat(nullptr, P(t, "stat"))->ino);
  // Another user may not read environ (0400, owned by 1000).
  ProcessSpec other;
  other.creds.uid = other.creds.euid = other.creds.suid = other.creds.fsuid = 2000;
  other.creds.cap_effective = other.creds.cap_permitted = 0;
  auto o = NewProcess(other);
  EXPECT_EQ(Open(o.get(), P(t, "environ")).error(), EACCES);
  EXPECT_TRUE(ReadFile(o.get(), P(t, "cmdline")).ok());
  // Nor list its fds, nor follow its cwd.
  EXPECT_EQ(List(o.get(), P(t, "fd")).error(), EACCES);
  EXPECT_EQ(Stat(o.get(), P(t, "cwd")).error(), EACCES);
  EXPECT_EQ(ReadLink(o.get(), P(t, "cwd")).error(), EACCES);
}

TEST_F(ProcfsTest, FdLinksReadAndReopen) {
  auto t = NewProcess();
  auto [r, w] = vfs::Pipe::NewPair(0, 0, 0);
  ASSERT_TRUE(t->fds()->Set(0, r, false, 1024).ok());
  ASSERT_TRUE(t->fds()->Set(1, w, true, 1024).ok());
  ASSERT_OK_ASSIGN(null, Open(t.get(), "/dev/null", O_RDWR));
  ASSERT_TRUE(t->fds()->Set(5, null, false, 1024).ok());
  ASSERT_OK_ASSIGN(names, List(t.get(), "/proc/self/fd"));
  EXPECT_EQ(names, (std::vector<std::string>{"0", "1", "5"}));
  ASSERT_OK_ASSIGN(dirattr, Stat(t.get(), "/proc/self/fd"));
  EXPECT_EQ(dirattr.size, 3u);
  ASSERT_OK_ASSIGN(pr, Stat(t.get(), "/proc/self/fd/0", /*follow=*/false));
  EXPECT_EQ(pr.mode, S_IFLNK | 0500u);
  EXPECT_EQ(Stat(t.get(), "/proc/self/fd/1", false)->mode, S_IFLNK | 0300u);
  EXPECT_EQ(Stat(t.get(), "/proc/self/fd/5", false)->mode, S_IFLNK | 0700u);
  ASSERT_OK_ASSIGN(pipe_name, ReadLink(t.get(), "/proc/self/fd/0"));
  EXPECT_EQ(pipe_name, absl::StrFormat("pipe:[%d]", r->Stat()->ino));
  EXPECT_EQ(*ReadLink(t.get(), "/proc/self/fd/1"), pipe_name);
  EXPECT_EQ(*ReadLink(t.get(), "/proc/self/fd/5"), "/dev/null");
  EXPECT_EQ(ReadLink(t.get(), "/proc/self/fd/7").error(), ENOENT);
  // Following the link stats the object itself.
  ASSERT_OK_ASSIGN(target, Stat(t.get(), "/proc/self/fd/5"));
  EXPECT_EQ(target.rdev, makedev(1, 3));
  ASSERT_OK_ASSIGN(fifo, Stat(t.get(), "/proc/self/fd/0"));
  EXPECT_EQ(fifo.type(), uint32_t{S_IFIFO});
  // Opening a pipe's link gives a new end on the same pipe, in either
  // direction (FIFO semantics).
  ASSERT_OK_ASSIGN(w2, Open(t.get(), "/proc/self/fd/0", O_WRONLY));
  std::string msg = "through proc";
  BufferIOSequence src(msg.data(), msg.size());
  ASSERT_EQ(w2->Write(t.get(), src).value(), 12);
  char buf[32];
  BufferIOSequence dst(buf, sizeof(buf));
  ASSERT_EQ(r->Read(t.get(), dst).value(), 12);
  EXPECT_EQ(std::string(buf, 12), msg);
  EXPECT_EQ(w2->Stat()->ino, r->Stat()->ino);
  // A file with a path reopens as a new open file of the same inode.
  ASSERT_OK_ASSIGN(again, Open(t.get(), "/proc/self/fd/5", O_WRONLY));
  EXPECT_NE(again.get(), null.get());
  EXPECT_EQ(again->Stat()->rdev, makedev(1, 3));
  // fdinfo.
  ASSERT_OK_ASSIGN(info1, ReadFile(t.get(), "/proc/self/fdinfo/1"));
  EXPECT_EQ(info1, absl::StrFormat("pos:\t0\nflags:\t02000001\nmnt_id:\t0\nino:\t%d\n",
                                   r->Stat()->ino));
  ASSERT_OK_ASSIGN(info5, ReadFile(t.get(), "/proc/self/fdinfo/5"));
  EXPECT_EQ(info5.substr(0, info5.find("mnt_id")), "pos:\t0\nflags:\t0100002\n");
  ASSERT_OK_ASSIGN(infos, List(t.get(), "/proc/self/fdinfo"));
  EXPECT_EQ(infos, (std::vector<std::string>{"0", "1", "5"}));
}

TEST_F(ProcfsTest, CwdRootExeLinks) {
  auto t = NewProcess();
  ASSERT_OK_ASSIGN(dir, vfs_->Resolve(Ctx(t.get()), vfs_->Root(), "/my dir", vfs::kFollow));
  t->fs()->SetCwd(dir);
  EXPECT_EQ(*ReadLink(t.get(), "/proc/self/cwd"), "/my dir");
  EXPECT_EQ(*ReadLink(t.get(), "/proc/self/root"), "/");
  EXPECT_EQ(*ReadLink(t.get(), "/proc/self/exe"), "/bin/testproc");
  // Following exe reaches the executable itself.
  ASSERT_OK_ASSIGN(exe, Open(t.get(), "/proc/self/exe"));
  EXPECT_EQ(*ReadAll(t.get(), exe.get()), "\x7f" "ELF");
  ASSERT_OK_ASSIGN(cwd, Stat(t.get(), "/proc/self/cwd"));
  EXPECT_TRUE(cwd.IsDir());
  EXPECT_EQ(cwd.ino, dir.dentry->inode()->GetAttr()->ino);
}

TEST_F(ProcfsTest, TaskDirectoryListsThreads) {
  auto t = NewProcess();
  auto t2 = NewThread(t);
  ASSERT_OK_ASSIGN(tids, List(t.get(), P(t, "task")));
  EXPECT_EQ(tids, (std::vector<std::string>{std::to_string(t->tid()), std::to_string(t2->tid())}));
  std::string dir = P(t, "task/" + std::to_string(t2->tid()));
  ASSERT_OK_ASSIGN(entries, List(t.get(), dir));
  EXPECT_TRUE(Has(entries, "stat"));
  EXPECT_TRUE(Has(entries, "fd"));
  EXPECT_FALSE(Has(entries, "task"));
  ASSERT_OK_ASSIGN(st, ReadFile(t.get(), dir + "/status"));
  EXPECT_NE(st.find(absl::StrFormat("\nPid:\t%d\n", t2->tid())), std::string::npos);
  EXPECT_NE(st.find(absl::StrFormat("\nTgid:\t%d\n", t->tgid())), std::string::npos);
  // A thread of another process is not in this task/.
  auto other = NewProcess();
  EXPECT_EQ(Stat(t.get(), P(t, "task/" + std::to_string(other->tid()))).error(), ENOENT);
}

TEST_F(ProcfsTest, MountsAndMountinfo) {
  auto t = NewProcess();
  ASSERT_OK_ASSIGN(m, ReadFile(t.get(), "/proc/mounts"));
  std::vector<std::string> lines = Split(m, '\n');
  ASSERT_EQ(lines.size(), 5u) << m;
  EXPECT_EQ(lines[0], "/dev/root / rootfs rw,relatime 0 0");
  EXPECT_EQ(lines[1], "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0");
  EXPECT_EQ(lines[2], "udev /dev devtmpfs rw,nosuid,relatime,mode=755 0 0");
  EXPECT_EQ(lines[3], "sysfs /sys sysfs ro,nosuid,nodev,noexec,relatime 0 0");
  ASSERT_OK_ASSIGN(mi, ReadFile(t.get(), P(t, "mountinfo")));
  std::vector<std::string> il = Split(mi, '\n');
  ASSERT_EQ(il.size(), 5u) << mi;
  std::regex line("^(\\d+) (\\d+) (\\d+):(\\d+) / (\\S+) (\\S+) - (\\S+) (\\S+) (\\S+)$");
  std::smatch sm;
  ASSERT_TRUE(std::regex_match(il[0], sm, line)) << il[0];
  std::string root_id = sm[1];
  EXPECT_EQ(sm[2], root_id);
  EXPECT_EQ(sm[5], "/");
  ASSERT_TRUE(std::regex_match(il[1], sm, line)) << il[1];
  EXPECT_EQ(sm[2], root_id);
  EXPECT_EQ(sm[5], "/proc");
  EXPECT_EQ(sm[6], "rw,nosuid,nodev,noexec,relatime");
  EXPECT_EQ(sm[7], "proc");
  EXPECT_EQ(sm[8], "proc");
  EXPECT_EQ(sm[9], "rw");
  EXPECT_EQ(std::stoul(sm[3].str()), 0u);
  ASSERT_TRUE(std::regex_match(il[2], sm, line)) << il[2];
  EXPECT_EQ(sm[9], "rw,mode=755");
}

TEST_F(ProcfsTest, GoneProcessesVanishAndOpenFilesFail) {
  auto t = NewProcess();
  auto watcher = NewProcess();
  std::string dir = P(t, "");
  ASSERT_OK_ASSIGN(f, Open(watcher.get(), P(t, "status")));
  ASSERT_OK_ASSIGN(fd, Open(watcher.get(), dir, O_RDONLY | O_DIRECTORY));
  Reap(t);
  EXPECT_EQ(Stat(watcher.get(), dir).error(), ENOENT);
  EXPECT_EQ(ReadAll(watcher.get(), f.get()).error(), ESRCH);
  ASSERT_OK_ASSIGN(names, List(nullptr, "/proc"));
  EXPECT_FALSE(Has(names, std::to_string(t->tgid())));
  // The open directory of the gone process finds nothing any more, even
  // if its pid is reused later.
  EXPECT_EQ(fd->inode()->Lookup("status").error(), ENOENT);
  EXPECT_EQ(fd->inode()->ReadDir().error(), ENOENT);
}

TEST_F(ProcfsTest, ReopenedFilesReopenTheirOriginal) {
  auto t = NewProcess();
  auto [r, w] = vfs::Pipe::NewPair(0, 0, 0);
  ASSERT_TRUE(t->fds()->Set(3, w, false, 1024).ok());
  ASSERT_OK_ASSIGN(w2, Open(t.get(), "/proc/self/fd/3", O_WRONLY));
  ASSERT_TRUE(t->fds()->Set(4, w2, false, 1024).ok());
  // Through the reopened end, again: still the same pipe.
  ASSERT_OK_ASSIGN(w3, Open(t.get(), "/proc/self/fd/4", O_WRONLY));
  EXPECT_EQ(w3->Stat()->ino, r->Stat()->ino);
  EXPECT_EQ(*ReadLink(t.get(), "/proc/self/fd/4"), *ReadLink(t.get(), "/proc/self/fd/3"));
  std::string msg = "x";
  BufferIOSequence src(msg.data(), 1);
  ASSERT_EQ(w3->Write(t.get(), src).value(), 1);
  // Closing every writer but the reopened ones leaves the reader waiting;
  // closing those too gives it end of file.
  w.reset();
  ASSERT_TRUE(t->fds()->Remove(3) != nullptr);
  char c;
  BufferIOSequence d1(&c, 1);
  ASSERT_EQ(r->Read(t.get(), d1).value(), 1);
  BufferIOSequence d2(&c, 1);
  EXPECT_EQ(r->Read(t.get(), d2).error(), EAGAIN);
  w2.reset();
  w3.reset();
  ASSERT_TRUE(t->fds()->Remove(4) != nullptr);
  BufferIOSequence d3(&c, 1);
  EXPECT_EQ(r->Read(t.get(), d3).value(), 0);
}

TEST_F(ProcfsTest, FdinfoNeedsPtraceAccess) {
  ProcessSpec a, b;
  a.creds.uid = a.creds.euid = a.creds.suid = a.creds.fsuid = 1000;
  a.creds.cap_effective = 0;
  b.creds.uid = b.creds.euid = b.creds.suid = b.creds.fsuid = 1001;
  b.creds.cap_effective = 0;
  auto ta = NewProcess(a);
  auto tb = NewProcess(b);
  ASSERT_OK_ASSIGN(null, Open(ta.get(), "/dev/null"));
  ASSERT_TRUE(ta->fds()->Set(0, null, false, 1024).ok());
  EXPECT_TRUE(ReadFile(ta.get(), P(ta, "fdinfo/0")).ok());
  ASSERT_OK_ASSIGN(names, List(tb.get(), P(ta, "fdinfo")));  // listing is allowed
  EXPECT_EQ(names, std::vector<std::string>{"0"});
  EXPECT_EQ(ReadFile(tb.get(), P(ta, "fdinfo/0")).error(), EACCES);
  EXPECT_TRUE(ReadFile(nullptr, P(ta, "fdinfo/0")).ok());  // root, or the Sentry
}

TEST_F(ProcfsTest, ZombiesShowStateZAndEmptyFiles) {
  auto t = NewProcess();
  {
    // What Task::Exit leaves: no resources, the group a zombie.
    t->SetMM(nullptr);
    t->SetFDTable(nullptr);
    t->SetFS(nullptr);
    absl::MutexLock l(&kernel_->tasks_mu_);
    t->tg()->tasks.clear();
    t->tg()->zombie = true;
    t->tg()->wait_status = 3 << 8;
  }
  ASSERT_OK_ASSIGN(st, ReadFile(nullptr, P(t, "stat")));
  EXPECT_NE(st.find(") Z "), std::string::npos);
  EXPECT_EQ(st.substr(st.rfind(' ') + 1), "768\n");
  EXPECT_EQ(*ReadFile(nullptr, P(t, "cmdline")), "");
  EXPECT_EQ(*ReadFile(nullptr, P(t, "maps")), "");
  EXPECT_EQ(*ReadFile(nullptr, P(t, "mounts")), "");
  ASSERT_OK_ASSIGN(fds, List(nullptr, P(t, "fd")));
  EXPECT_TRUE(fds.empty());
  EXPECT_EQ(ReadLink(nullptr, P(t, "cwd")).error(), ENOENT);
  EXPECT_EQ(ReadLink(nullptr, P(t, "exe")).error(), ENOENT);
  ASSERT_OK_ASSIGN(tasks, List(nullptr, P(t, "task")));
  EXPECT_EQ(tasks, std::vector<std::string>{std::to_string(t->tid())});
}

// Processes come and go while another thread walks /proc: every read
// either succeeds or fails cleanly (ENOENT, ESRCH), never crashes.
TEST_F(ProcfsTest, ConcurrentChurnAndReaders) {
  auto reader = NewProcess();
  std::atomic<bool> stop{false};
  std::atomic<bool> reading{false};
  std::thread churn([&] {
    // Start once the reader is in its loop, so the two really overlap even
    // when the machine is busy.
    while (!reading) std::this_thread::yield();
    for (int i = 0; i < 200; i++) {
      auto t = NewProcess();
      NewThread(t);
      Reap(t);
    }
    stop = true;
  });
  int reads = 0;
  while (!stop) {
    reading = true;
    auto names = List(reader.get(), "/proc");
    ASSERT_TRUE(names.ok());
    for (const std::string& n : *names) {
      if (n.empty() || !isdigit(static_cast<unsigned char>(n[0]))) continue;
      for (const char* f : {"stat", "status", "maps", "cmdline", "task"}) {
        std::string path = "/proc/" + n + "/" + f;
        auto r = std::string(f) == "task" ? List(reader.get(), path).error()
                                          : ReadFile(reader.get(), path).error();
        EXPECT_TRUE(r == 0 || r == ENOENT || r == ESRCH) << path << " " << r;
        reads++;
      }
    }
  }
  churn.join();
  EXPECT_GT(reads, 0);
}

}  // namespace
}  // namespace sentry::testing
