// /proc's text formats as pure functions (fs/proc/format.h).
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>

#include "fs/proc/format.h"
#include "gtest/gtest.h"

namespace sentry::proc {
namespace {

std::vector<std::string> Fields(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find_first_of(" \n", i);
    if (j == std::string::npos) j = s.size();
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

TEST(ProcFormatTest, StatHas52Fields) {
  TaskInfo t;
  t.pid = 42;
  t.comm = "sh";
  t.state = 'S';
  t.ppid = 1;
  t.pgrp = 42;
  t.sid = 1;
  t.utime_ns = 250 * kNsPerTick;
  t.stime_ns = 3 * kNsPerTick + kNsPerTick / 2;
  t.start_ns = 12345 * kNsPerTick;
  t.nice = 5;
  t.threads = 3;
  t.mem.vm_size = 1 << 20;
  t.mem.vm_rss = 12 * kPageSize;
  t.sig_blk = SigBit(SIGINT) | SigBit(40);  // real-time signals are cut off
  t.exit_code = 0x100;
  std::string s = FormatStat(t);
  ASSERT_EQ(s.back(), '\n');
  std::vector<std::string> f = Fields(s);
  ASSERT_EQ(f.size(), 52u) << s;
  EXPECT_EQ(f[0], "42");
  EXPECT_EQ(f[1], "(sh)");
  EXPECT_EQ(f[2], "S");
  EXPECT_EQ(f[3], "1");
  EXPECT_EQ(f[13], "250");   // utime
  EXPECT_EQ(f[14], "3");     // stime
  EXPECT_EQ(f[17], "25");    // priority
  EXPECT_EQ(f[18], "5");     // nice
  EXPECT_EQ(f[19], "3");     // threads
  EXPECT_EQ(f[21], "12345"); // starttime
  EXPECT_EQ(f[22], "1048576");
  EXPECT_EQ(f[23], "12");
  EXPECT_EQ(f[31], "2");     // blocked: SIGINT only
  EXPECT_EQ(f[51], "256");
}

TEST(ProcFormatTest, StatusStateNamesAndCapabilities) {
  TaskInfo t;
  t.state = 'Z';
  t.creds.cap_effective = ~0ull;  // more bits than Linux has are cut
  std::string s = FormatStatus(t);
  EXPECT_NE(s.find("State:\tZ (zombie)\n"), std::string::npos);
  EXPECT_NE(s.find("CapEff:\t000001ffffffffff\n"), std::string::npos);
  EXPECT_NE(s.find("Groups:\t \n"), std::string::npos);
  EXPECT_EQ(StateName('R'), "R (running)");
  EXPECT_EQ(StateName('T'), "T (stopped)");
}

TEST(ProcFormatTest, CpuMasks) {
  EXPECT_EQ(CpuMask(1), "1");
  EXPECT_EQ(CpuMask(2), "3");
  EXPECT_EQ(CpuMask(8), "ff");
  EXPECT_EQ(CpuMask(32), "ffffffff");
  EXPECT_EQ(CpuMask(40), "ff,ffffffff");
  EXPECT_EQ(CpuMask(64), "ffffffff,ffffffff");
}

TEST(ProcFormatTest, MapsNamesStartAtColumn73) {
  VmaStat v;
  v.start = 0x400000;
  v.end = 0x401000;
  v.prot = PROT_READ | PROT_EXEC;
  v.file = true;
  v.offset = 0x2000;
  v.dev = makedev(8, 1);
  v.ino = 1234;
  v.name = "/usr/bin/true";
  VmaStat anon;
  anon.start = 0x7f0000000000;
  anon.end = 0x7f0000002000;
  anon.prot = PROT_READ | PROT_WRITE;
  anon.shared = true;
  std::string s = FormatMaps({v, anon});
  EXPECT_EQ(s, "00400000-00401000 r-xp 00002000 08:01 1234" + std::string(31, ' ') +
                   "/usr/bin/true\n7f0000000000-7f0000002000 rw-s 00000000 00:00 0 \n");
  EXPECT_EQ(s.find("/usr"), 73u);
}

TEST(ProcFormatTest, SummaryOfVmas) {
  VmaStat text{0x1000, 0x3000, PROT_READ | PROT_EXEC, PROT_READ | PROT_EXEC, false, false, true,
               0, 1, 2, "/bin/prog", 0x1000};
  VmaStat data{0x3000, 0x4000, PROT_READ | PROT_WRITE, 7, false, false, true,
               0x2000, 1, 2, "/bin/prog", 0x1000};
  VmaStat lib{0x10000, 0x12000, PROT_READ | PROT_EXEC, 7, false, false, true, 0, 1, 3, "/lib/x.so", 0};
  VmaStat heap{0x20000, 0x30000, PROT_READ | PROT_WRITE, 7, false, false, false, 0, 0, 0, "[heap]",
               0x4000};
  VmaStat stack{0x40000, 0x50000, PROT_READ | PROT_WRITE, 7, false, true, false, 0, 0, 0, "[stack]",
                0x2000};
  MemSummary m = SummarizeVmas({text, data, lib, heap, stack}, "/bin/prog");
  EXPECT_EQ(m.vm_size, 0x2000u + 0x1000 + 0x2000 + 0x10000 + 0x10000);
  EXPECT_EQ(m.vm_rss, 0x8000u);
  EXPECT_EQ(m.rss_anon, 0x6000u);
  EXPECT_EQ(m.rss_file, 0x2000u);
  EXPECT_EQ(m.vm_exe, 0x2000u);
  EXPECT_EQ(m.vm_lib, 0x2000u);
  EXPECT_EQ(m.vm_data, 0x1000u + 0x10000);
  EXPECT_EQ(m.vm_stk, 0x10000u);
  EXPECT_EQ(m.start_code, 0x1000u);
  EXPECT_EQ(m.end_code, 0x3000u);
  EXPECT_EQ(m.start_data, 0x3000u);
  EXPECT_EQ(m.end_data, 0x4000u);
}

TEST(ProcFormatTest, MountLinesEscapeAndOrder) {
  MountRow r;
  r.id = 30;
  r.parent_id = 1;
  r.dev = makedev(0, 45);
  r.mount_point = "/mnt/my dir";
  r.fstype = "tmpfs";
  r.source = "";
  r.flags = MS_NOSUID | MS_NODEV | MS_NOATIME;
  r.fs_options = "size=65536k";
  EXPECT_EQ(FormatMounts({r}), "none /mnt/my\\040dir tmpfs rw,nosuid,nodev,noatime,size=65536k 0 0\n");
  EXPECT_EQ(FormatMountinfo({r}),
            "30 1 0:45 / /mnt/my\\040dir rw,nosuid,nodev,noatime - tmpfs none rw,size=65536k\n");
  EXPECT_EQ(MangleMountField("a\tb\\c\nd"), "a\\011b\\134c\\012d");
}

TEST(ProcFormatTest, LimitsTable) {
  std::array<struct rlimit, RLIM_NLIMITS> l;
  for (auto& x : l) x = {RLIM_INFINITY, RLIM_INFINITY};
  l[RLIMIT_NOFILE] = {1024, 4096};
  std::string s = FormatLimits(l);
  EXPECT_NE(s.find("Max open files            1024                 4096                 files     \n"),
            std::string::npos);
  EXPECT_NE(s.find("Max realtime timeout      unlimited            unlimited            us        \n"),
            std::string::npos);
}

}  // namespace
}  // namespace sentry::proc
