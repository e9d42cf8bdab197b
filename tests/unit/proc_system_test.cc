// /proc's system-wide files and /proc/sys.
#include <regex>

#include "tests/unit/proc_test_util.h"

namespace sentry::testing {
namespace {

class ProcSystemTest : public KernelFixture {};

TEST_F(ProcSystemTest, HostSnapshots) {
  EXPECT_EQ(*ReadFile(nullptr, "/proc/cpuinfo"), "processor\t: 0\n\nprocessor\t: 1\n\n");
  EXPECT_EQ(*ReadFile(nullptr, "/proc/meminfo"),
            "MemTotal:       16000000 kB\nMemFree:        8000000 kB\n");
}

TEST_F(ProcSystemTest, StatHasCpuLinesAndCounters) {
  NewProcess();
  ASSERT_OK_ASSIGN(s, ReadFile(nullptr, "/proc/stat"));
  std::vector<std::string> lines = Split(s, '\n');
  std::regex cpu("^cpu(\\d*) +(\\d+)( \\d+){9}$");
  ASSERT_TRUE(std::regex_match(lines[0], cpu)) << lines[0];
  EXPECT_EQ(lines[0].substr(0, 5), "cpu  ");
  EXPECT_TRUE(std::regex_match(lines[1], cpu)) << lines[1];
  EXPECT_EQ(lines[1].substr(0, 5), "cpu0 ");
  EXPECT_EQ(lines[2].substr(0, 5), "cpu1 ");
  EXPECT_EQ(lines[3].substr(0, 4), "intr");
  int64_t btime = 0;
  for (const std::string& l : lines) {
    if (l.rfind("btime ", 0) == 0) btime = std::stoll(l.substr(6));
  }
  // The sandbox shares the host's boot clock: btime + uptime is now.
  EXPECT_NEAR(btime + static_cast<int64_t>(kernel_->UptimeNs() / 1000000000ull),
              vfs::Now().tv_sec, 5);
  EXPECT_NE(s.find("\nprocesses 1\n"), std::string::npos);
  EXPECT_NE(s.find("\nprocs_running 1\nprocs_blocked 0\n"), std::string::npos);
}

TEST_F(ProcSystemTest, UptimeLoadavgVersionFilesystems) {
  auto t = NewProcess();
  auto t2 = NewThread(t);
  ASSERT_OK_ASSIGN(up, ReadFile(nullptr, "/proc/uptime"));
  EXPECT_TRUE(std::regex_match(up, std::regex("^\\d+\\.\\d\\d \\d+\\.\\d\\d\n$"))) << up;
  EXPECT_EQ(*ReadFile(nullptr, "/proc/loadavg"),
            absl::StrFormat("0.00 0.00 0.00 1/2 %d\n", t2->tid()));
  EXPECT_EQ(*ReadFile(nullptr, "/proc/version"),
            "Linux version 6.1.0 (root@sandbox) (gcc (GCC) 12.2.0, GNU ld 2.40) #1 SMP "
            "PREEMPT_DYNAMIC sandbox\n");
  ASSERT_OK_ASSIGN(fs, ReadFile(nullptr, "/proc/filesystems"));
  EXPECT_NE(fs.find("nodev\tproc\n"), std::string::npos);
  EXPECT_NE(fs.find("nodev\ttmpfs\n"), std::string::npos);
}

TEST_F(ProcSystemTest, RereadingFromZeroTakesAFreshSnapshot) {
  ASSERT_OK_ASSIGN(f, Open(nullptr, "/proc/sys/kernel/hostname"));
  EXPECT_EQ(*ReadAll(nullptr, f.get()), "sandbox\n");
  kernel_->SetHostname("other");
  // Still at EOF of the old snapshot; after a rewind, the new value.
  EXPECT_EQ(*ReadAll(nullptr, f.get()), "");
  ASSERT_EQ(*f->Seek(0, SEEK_SET), 0);
  EXPECT_EQ(*ReadAll(nullptr, f.get()), "other\n");
  EXPECT_EQ(f->Seek(0, SEEK_END).error(), EINVAL);  // seq_lseek
  char buf[4];
  BufferIOSequence io(buf, sizeof(buf));
  EXPECT_EQ(f->PRead(nullptr, io, 3).value(), 3);
  EXPECT_EQ(std::string(buf, 3), "er\n");
}

TEST_F(ProcSystemTest, SysctlValues) {
  struct Want {
    const char* path;
    const char* value;
  } want[] = {
      {"kernel/ostype", "Linux\n"},
      {"kernel/osrelease", "6.1.0\n"},
      {"kernel/version", "#1 SMP PREEMPT_DYNAMIC sandbox\n"},
      {"kernel/hostname", "sandbox\n"},
      {"kernel/domainname", "(none)\n"},
      {"kernel/pid_max", "4194304\n"},
      {"kernel/ngroups_max", "65536\n"},
      {"kernel/cap_last_cap", "40\n"},
      {"kernel/overflowuid", "65534\n"},
      {"kernel/overflowgid", "65534\n"},
      {"kernel/shmmax", "18446744073692774399\n"},
      {"kernel/shmall", "18446744073692774399\n"},
      {"kernel/shmmni", "4096\n"},
      {"kernel/msgmax", "8192\n"},
      {"kernel/threads-max", "65536\n"},
      {"kernel/yama/ptrace_scope", "0\n"},
      {"vm/overcommit_memory", "0\n"},
      {"vm/max_map_count", "65530\n"},
      {"vm/mmap_min_addr", "4096\n"},
      {"fs/file-max", "9223372036854775807\n"},
      {"fs/nr_open", "1048576\n"},
      {"fs/pipe-max-size", "1048576\n"},
      {"net/core/somaxconn", "4096\n"},
  };
  for (const Want& w : want) {
    std::string path = std::string("/proc/sys/") + w.path;
    auto v = ReadFile(nullptr, path);
    ASSERT_TRUE(v.ok()) << path;
    EXPECT_EQ(*v, w.value) << path;
  }
  std::regex uuid("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\n$");
  ASSERT_OK_ASSIGN(boot1, ReadFile(nullptr, "/proc/sys/kernel/random/boot_id"));
  EXPECT_TRUE(std::regex_match(boot1, uuid)) << boot1;
  EXPECT_EQ(*ReadFile(nullptr, "/proc/sys/kernel/random/boot_id"), boot1);
  ASSERT_OK_ASSIGN(u1, ReadFile(nullptr, "/proc/sys/kernel/random/uuid"));
  ASSERT_OK_ASSIGN(u2, ReadFile(nullptr, "/proc/sys/kernel/random/uuid"));
  EXPECT_TRUE(std::regex_match(u1, uuid)) << u1;
  EXPECT_NE(u1, u2);
}

TEST_F(ProcSystemTest, SysctlWrites) {
  auto root = NewProcess();
  // Hostname: sethostname's rule, up to the first newline.
  ASSERT_EQ(WriteFile(root.get(), "/proc/sys/kernel/hostname", "box1\n").value(), 5);
  EXPECT_EQ(kernel_->hostname(), "box1");
  ASSERT_EQ(WriteFile(root.get(), "/proc/sys/kernel/domainname", "example.org").value(), 11);
  EXPECT_EQ(kernel_->domainname(), "example.org");
  // Without CAP_SYS_ADMIN: EPERM.
  ProcessSpec nocap;
  nocap.creds.cap_effective = 0;
  auto weak_root = NewProcess(nocap);
  EXPECT_EQ(WriteFile(weak_root.get(), "/proc/sys/kernel/hostname", "x").error(), EPERM);
  // Another user cannot even open it for writing (0644 root).
  ProcessSpec user;
  user.creds.uid = user.creds.euid = user.creds.fsuid = 1000;
  user.creds.cap_effective = 0;
  auto u = NewProcess(user);
  EXPECT_EQ(Open(u.get(), "/proc/sys/kernel/hostname", O_WRONLY).error(), EACCES);
  // Read-only sysctls refuse writers, root included.
  EXPECT_EQ(Open(root.get(), "/proc/sys/kernel/ostype", O_WRONLY).error(), EACCES);
  EXPECT_EQ(Open(root.get(), "/proc/sys/vm/overcommit_memory", O_RDWR).error(), EACCES);
  ASSERT_OK_ASSIGN(a, Stat(nullptr, "/proc/sys/vm/overcommit_memory"));
  EXPECT_EQ(a.mode, S_IFREG | 0444u);
  ASSERT_OK_ASSIGN(h, Stat(nullptr, "/proc/sys/kernel/hostname"));
  EXPECT_EQ(h.mode, S_IFREG | 0644u);
  // No names can be made in /proc.
  vfs::PathContext c = Ctx(root.get());
  EXPECT_EQ(vfs_->Mkdir(c, c.cwd, "/proc/foo", 0755), ENOENT);
  EXPECT_EQ(vfs_->Unlink(c, c.cwd, "/proc/version"), EPERM);
}

TEST_F(ProcSystemTest, StatFsReportsProcMagic) {
  ASSERT_OK_ASSIGN(p, vfs_->Resolve(Ctx(nullptr), vfs_->Root(), "/proc", vfs::kFollow));
  struct statfs sf;
  ASSERT_EQ(p.dentry->inode()->fs()->StatFS(&sf), 0);
  EXPECT_EQ(sf.f_type, 0x9fa0);
  EXPECT_FALSE(p.dentry->inode()->fs()->CacheDentries());
}

}  // namespace
}  // namespace sentry::testing
