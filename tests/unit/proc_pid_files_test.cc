// The contents of /proc/<pid>/ files: cmdline, environ, comm, auxv, stat,
// status, statm, maps, smaps, limits, oom_score_adj, loginuid, cgroup.
#include <sys/sysmacros.h>

#include <algorithm>
#include <regex>

#include "tests/unit/proc_test_util.h"

namespace sentry::testing {
namespace {

class ProcPidFilesTest : public KernelFixture {};

TEST_F(ProcPidFilesTest, CmdlineEnvironCommAuxv) {
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

TEST_F(ProcPidFilesTest, CommWritesRenameOnlyWithinTheProcess) {
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

TEST_F(ProcPidFilesTest, StatHas52FieldsWithRealValues) {
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

TEST_F(ProcPidFilesTest, StatusKeysInOrderWithValues) {
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

TEST_F(ProcPidFilesTest, StatmAndMaps) {
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

TEST_F(ProcPidFilesTest, OomScoreAdjAndLoginuid) {
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

}  // namespace
}  // namespace sentry::testing
