// /proc on a kernel with hand-built processes: the tree, the per-process
// files' contents and permissions, magic links, and what happens when a
// process goes away.
#include <sys/sysmacros.h>

#include <algorithm>
#include <regex>

#include "fs/pipe/pipe.h"
#include "tests/unit/proc_test_util.h"

namespace sentry::testing {
namespace {

class ProcfsTest : public KernelFixture {
 protected:
  std::string P(const std::shared_ptr<Task>& t, const std::string& rest) {
    return "/proc/" + std::to_string(t->tgid()) + "/" + rest;
  }
  static bool Has(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  }
};

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

TEST_F(ProcfsTest, CmdlineEnvironCommAuxv) {
  auto t = NewProcess();
  EXPECT_EQ(*ReadFile(t.get(), P(t, "cmdline")), std::string("/bin/testproc\0-x\0arg two\0", 25));
  EXPECT_EQ(*ReadFile(t.get(), P(t, "environ")), std::string("HOME=/root\0PATH=/bin\0", 21));
  EXPECT_EQ(*ReadFile(t.get(), P(t, "comm")), "testproc\n");
  ASSERT_OK_ASSIGN(auxv, ReadFile(t.get(), P(t, "auxv")));
  ASSERT_EQ(auxv.size(), 32u);
  uint64_t w[4];
  memcpy(w, auxv.data(), sizeof(w));
  EXPECT_EQ(w[0], uint64_t{AT_PAGESZ});
  EXPECT_EQ(w[1], kPageSize);
  EXPECT_EQ(w[2], uint64_t{AT_NULL});
  // setproctitle: a program that overwrote its argument area's final NUL
  // shows one string.
  std::string title = "worker: idle";
  AddrRange a = t->mm()->argv_range();
  std::string area(a.length(), ' ');
  area.replace(0, title.size(), title);
  ASSERT_EQ(t->mm()->CopyOut(UserAddr(a.start), area.data(), area.size()), 0);
  ASSERT_OK_ASSIGN(cl, ReadFile(t.get(), P(t, "cmdline")));
  EXPECT_EQ(cl.substr(0, title.size()), title);
  EXPECT_EQ(cl.find('\0'), cl.size() - 1);  // ran on into the environment, up to its NUL
}

TEST_F(ProcfsTest, CommWritesRenameOnlyWithinTheProcess) {
  auto t = NewProcess();
  auto t2 = NewThread(t);
  auto stranger = NewProcess();
  ASSERT_EQ(WriteFile(t2.get(), P(t, "comm"), "renamed-by-a-sibling-thread").value(), 27);
  EXPECT_EQ(t->comm(), "renamed-by-a-si");  // 15 bytes, as TASK_COMM_LEN allows
  EXPECT_EQ(WriteFile(stranger.get(), P(t, "comm"), "x").error(), EINVAL);
  std::string tc = absl::StrFormat("/proc/%d/task/%d/comm", t->tgid(), t2->tid());
  ASSERT_EQ(WriteFile(t.get(), tc, "io\n").value(), 3);
  EXPECT_EQ(*ReadFile(t.get(), tc), "io\n\n");  // Linux keeps the newline too
}

TEST_F(ProcfsTest, StatHas52FieldsWithRealValues) {
  auto parent = NewProcess();
  ProcessSpec spec;
  spec.parent = parent;
  spec.comm = "a b) c";
  auto t = NewProcess(spec);
  NewThread(t);
  ASSERT_OK_ASSIGN(s, ReadFile(t.get(), P(t, "stat")));
  ASSERT_EQ(s.back(), '\n');
  // comm may hold spaces and parentheses: split after the last ')'.
  size_t close = s.rfind(')');
  EXPECT_EQ(s.substr(0, close + 1), absl::StrFormat("%d (a b) c)", t->tgid()));
  std::vector<std::string> f = Split(s.substr(close + 2, s.size() - close - 3), ' ');
  ASSERT_EQ(f.size() + 2, 52u) << s;
  auto field = [&](int n) { return f[n - 3]; };  // proc(5) numbering
  EXPECT_EQ(field(3), "R");                       // reading itself
  EXPECT_EQ(field(4), std::to_string(parent->tgid()));
  EXPECT_EQ(field(5), std::to_string(parent->tgid()));  // pgrp inherited
  EXPECT_EQ(field(6), std::to_string(parent->tgid()));  // session
  EXPECT_EQ(field(7), "0");
  EXPECT_EQ(field(8), "-1");
  EXPECT_EQ(field(19), "0");   // nice
  EXPECT_EQ(field(18), "20");  // priority
  EXPECT_EQ(field(20), "2");   // threads
  EXPECT_EQ(field(23), std::to_string(t->mm()->VirtualBytes()));
  EXPECT_EQ(field(24), std::to_string(t->mm()->ResidentBytes() / kPageSize));
  EXPECT_EQ(field(25), "18446744073709551615");  // RLIMIT_RSS unlimited
  EXPECT_EQ(field(26), std::to_string(kTextBase));  // startcode
  EXPECT_EQ(field(38), "17");                       // SIGCHLD
  EXPECT_EQ(field(48), std::to_string(t->mm()->argv_range().start));
  EXPECT_EQ(field(51), std::to_string(t->mm()->envp_range().end));
  // Another reader sees it sleeping.
  ASSERT_OK_ASSIGN(s2, ReadFile(parent.get(), P(t, "stat")));
  EXPECT_NE(s2.find(") S "), std::string::npos);
  // Start time is in clock ticks since boot.
  EXPECT_LE(std::stoull(field(22)), kernel_->UptimeNs() / 10000000);
}

TEST_F(ProcfsTest, StatusKeysInOrderWithValues) {
  ProcessSpec spec;
  spec.creds.uid = 1;
  spec.creds.euid = 2;
  spec.creds.suid = 3;
  spec.creds.fsuid = 4;
  spec.creds.gid = 5;
  spec.creds.egid = 6;
  spec.creds.sgid = 7;
  spec.creds.fsgid = 8;
  spec.creds.groups = {10, 20};
  spec.creds.cap_effective = 0x3;
  auto t = NewProcess(spec);
  {
    absl::MutexLock l(&t->tg()->sighand->mu);
    t->mask_ = SigBit(SIGUSR1) | SigBit(SIGTERM);
    t->tg()->sighand->actions[SIGPIPE].handler = kSigIgn;
    t->tg()->sighand->actions[SIGINT].handler = 0x401000;
  }
  ASSERT_OK_ASSIGN(s, ReadFile(t.get(), P(t, "status")));
  std::vector<std::string> keys;
  std::map<std::string, std::string> kv;
  for (const std::string& line : Split(s, '\n')) {
    if (line.empty()) continue;
    size_t c = line.find(":\t");
    ASSERT_NE(c, std::string::npos) << line;
    keys.push_back(line.substr(0, c));
    kv[line.substr(0, c)] = line.substr(c + 2);
  }
  const std::vector<std::string> want = {
      "Name", "Umask", "State", "Tgid", "Ngid", "Pid", "PPid", "TracerPid", "Uid", "Gid",
      "FDSize", "Groups", "NStgid", "NSpid", "NSpgid", "NSsid", "VmPeak", "VmSize", "VmLck",
      "VmPin", "VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem", "VmData", "VmStk", "VmExe",
      "VmLib", "VmPTE", "VmSwap", "HugetlbPages", "CoreDumping", "THP_enabled", "Threads", "SigQ",
      "SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt", "CapInh", "CapPrm", "CapEff", "CapBnd",
      "CapAmb", "NoNewPrivs", "Seccomp", "Seccomp_filters", "Speculation_Store_Bypass",
      "SpeculationIndirectBranch", "Cpus_allowed", "Cpus_allowed_list", "Mems_allowed",
      "Mems_allowed_list", "voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"};
  EXPECT_EQ(keys, want);
  EXPECT_EQ(kv["Name"], "testproc");
  EXPECT_EQ(kv["Umask"], "0022");
  EXPECT_EQ(kv["State"], "R (running)");
  EXPECT_EQ(kv["Pid"], std::to_string(t->tid()));
  EXPECT_EQ(kv["PPid"], "0");
  EXPECT_EQ(kv["Uid"], "1\t2\t3\t4");
  EXPECT_EQ(kv["Gid"], "5\t6\t7\t8");
  EXPECT_EQ(kv["Groups"], "10 20 ");
  EXPECT_EQ(kv["FDSize"], "64");
  EXPECT_EQ(kv["VmStk"], "      64 kB");
  EXPECT_EQ(kv["VmExe"], "       8 kB");
  EXPECT_EQ(kv["Threads"], "1");
  EXPECT_EQ(kv["SigBlk"], "0000000000004200");  // SIGUSR1 (10), SIGTERM (15)
  EXPECT_EQ(kv["SigIgn"], "0000000000001000");  // SIGPIPE (13)
  EXPECT_EQ(kv["SigCgt"], "0000000000000002");  // SIGINT (2)
  EXPECT_EQ(kv["CapEff"], "0000000000000003");
  EXPECT_EQ(kv["CapBnd"], "000001ffffffffff");
  EXPECT_EQ(kv["Cpus_allowed"], "3");
  EXPECT_EQ(kv["Cpus_allowed_list"], "0-1");
  EXPECT_EQ(kv["SigQ"], "0/65536");
}

TEST_F(ProcfsTest, StatmAndMaps) {
  auto t = NewProcess();
  // Touch a stack page so something is resident.
  uint64_t v = 7;
  ASSERT_EQ(t->mm()->CopyOut(UserAddr(kStackBase), &v, sizeof(v)), 0);
  ASSERT_OK_ASSIGN(statm, ReadFile(t.get(), P(t, "statm")));
  std::vector<std::string> f = Split(statm.substr(0, statm.size() - 1), ' ');
  ASSERT_EQ(f.size(), 7u);
  EXPECT_EQ(f[0], "18");  // 2 text + 16 stack pages
  EXPECT_EQ(f[1], std::to_string(t->mm()->ResidentBytes() / kPageSize));
  EXPECT_EQ(f[3], "2");   // text
  ASSERT_OK_ASSIGN(maps, ReadFile(t.get(), P(t, "maps")));
  std::vector<std::string> lines = Split(maps, '\n');
  ASSERT_EQ(lines.size(), 3u) << maps;
  EXPECT_EQ(lines[0],
            "555555554000-555555556000 r-xp 00000000 00:00 0                          "
            "/bin/testproc");
  EXPECT_EQ(lines[1],
            "7ffff0000000-7ffff0010000 rw-p 00000000 00:00 0                          [stack]");
  EXPECT_EQ(lines[2], "");
  // An unnamed mapping ends after the inode and its blank.
  MMapOpts o;
  o.length = kPageSize;
  o.prot = PROT_READ;
  o.addr = UserAddr(0x10000000);
  o.fixed = true;
  ASSERT_TRUE(t->mm()->MMap(o).ok());
  ASSERT_OK_ASSIGN(maps2, ReadFile(t.get(), P(t, "maps")));
  EXPECT_EQ(Split(maps2, '\n')[0], "10000000-10001000 r--p 00000000 00:00 0 ");
  ASSERT_OK_ASSIGN(smaps, ReadFile(t.get(), P(t, "smaps")));
  std::regex header("^[0-9a-f]{8,}-[0-9a-f]{8,} [-r][-w][-x][ps] [0-9a-f]{8} [0-9a-f]{2}:[0-9a-f]{2} \\d+ .*$");
  int headers = 0;
  for (const std::string& line : Split(smaps, '\n')) {
    if (std::regex_match(line, header)) headers++;
  }
  EXPECT_EQ(headers, 3);
  EXPECT_NE(smaps.find("Size:                 64 kB\n"), std::string::npos);
  // Only the stack has pages; the populated chunk is what Rss shows.
  EXPECT_NE(smaps.find(absl::StrFormat("Rss:            %8d kB\n", t->mm()->ResidentBytes() / 1024)),
            std::string::npos)
      << smaps;
  EXPECT_NE(smaps.find("VmFlags: rd wr mr mw me gd ac \n"), std::string::npos);
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

TEST_F(ProcfsTest, OomScoreAdjAndLoginuid) {
  auto t = NewProcess();
  EXPECT_EQ(*ReadFile(t.get(), P(t, "oom_score_adj")), "0\n");
  ASSERT_EQ(WriteFile(t.get(), P(t, "oom_score_adj"), "500\n").value(), 4);
  EXPECT_EQ(*ReadFile(t.get(), P(t, "oom_score_adj")), "500\n");
  EXPECT_EQ(WriteFile(t.get(), P(t, "oom_score_adj"), "abc").error(), EINVAL);
  EXPECT_EQ(WriteFile(t.get(), P(t, "oom_score_adj"), "1001").error(), EINVAL);
  ASSERT_EQ(WriteFile(t.get(), P(t, "oom_score_adj"), "-1000").value(), 5);
  EXPECT_EQ(t->tg()->oom_score_adj.load(), -1000);
  EXPECT_EQ(*ReadFile(t.get(), P(t, "oom_score")), "0\n");
  EXPECT_EQ(*ReadFile(t.get(), P(t, "loginuid")), "4294967295");
  EXPECT_EQ(WriteFile(t.get(), P(t, "loginuid"), "0").error(), EPERM);
  EXPECT_EQ(*ReadFile(t.get(), P(t, "cgroup")), "0::/\n");
  // Files without a write method: root may open them, write fails EINVAL.
  EXPECT_EQ(WriteFile(t.get(), P(t, "status"), "x").error(), EINVAL);
  ASSERT_OK_ASSIGN(limits, ReadFile(t.get(), P(t, "limits")));
  std::vector<std::string> ll = Split(limits, '\n');
  ASSERT_EQ(ll.size(), 18u);
  EXPECT_EQ(ll[0], "Limit                     Soft Limit           Hard Limit           Units     ");
  EXPECT_EQ(ll[4], "Max stack size            8388608              unlimited            bytes     ");
  EXPECT_EQ(ll[8], "Max open files            1024                 1048576              files     ");
  EXPECT_EQ(ll[14], "Max nice priority         0                    0                    ");
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

}  // namespace
}  // namespace sentry::testing
