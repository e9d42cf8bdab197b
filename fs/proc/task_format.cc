// /proc/<pid>/{stat,status,statm,limits}: fs/proc/array.c and base.c's
// formats, from a TaskInfo.
#include <algorithm>

#include "absl/strings/str_format.h"
#include "fs/proc/format.h"
#include "fs/sys/sysfs.h"

namespace sentry::proc {
namespace {

uint64_t Ticks(uint64_t ns) { return ns / kNsPerTick; }
uint64_t Kb(uint64_t bytes) { return bytes / 1024; }
uint64_t Pages(uint64_t bytes) { return bytes / kPageSize; }

// PF_RANDOMIZE: address space layout randomisation is on. Never
// PF_KTHREAD, which ps and top use to hide kernel threads.
constexpr uint64_t kPfRandomize = 0x00400000;

}  // namespace

std::string_view StateName(char state) {
  switch (state) {
    case 'R':
      return "R (running)";
    case 'D':
      return "D (disk sleep)";
    case 'T':
      return "T (stopped)";
    case 't':
      return "t (tracing stop)";
    case 'X':
      return "X (dead)";
    case 'Z':
      return "Z (zombie)";
    default:
      return "S (sleeping)";
  }
}

std::string CpuMask(int n) {
  n = std::max(n, 1);
  // Groups of 32 CPUs, highest first; the first group only as wide as it
  // needs to be (bitmap_print_to_pagebuf's "%*pb").
  std::string out;
  int top_bits = n % 32 == 0 ? 32 : n % 32;
  for (int hi = n; hi > 0;) {
    int bits = out.empty() ? top_bits : 32;
    uint64_t word = bits == 32 ? 0xffffffffull : ((uint64_t{1} << bits) - 1);
    if (!out.empty()) out += ',';
    out += absl::StrFormat("%0*x", (bits + 3) / 4, word);
    hi -= bits;
  }
  return out;
}

std::string FormatStat(const TaskInfo& t) {
  const MemSummary& m = t.mem;
  // Fields 31-34 are the obsolete decimal signal masks: the first 31
  // signals only, as Linux prints them.
  constexpr uint64_t kOldMask = 0x7fffffff;
  const int64_t fields[] = {
      t.ppid, t.pgrp, t.sid,
      t.tty_nr, t.tpgid,
      static_cast<int64_t>(kPfRandomize),
      0, 0, 0, 0,  // 10-13 minflt cminflt majflt cmajflt
      static_cast<int64_t>(Ticks(t.utime_ns)), static_cast<int64_t>(Ticks(t.stime_ns)),
      static_cast<int64_t>(Ticks(t.cutime_ns)), static_cast<int64_t>(Ticks(t.cstime_ns)),
      20 + t.nice,  // 18 priority: the static priority 120 + nice, minus MAX_RT_PRIO
      t.nice, t.threads,
      0,  // 21 itrealvalue
      static_cast<int64_t>(Ticks(t.start_ns)),
  };
  std::string s = absl::StrFormat("%d (%s) %c", t.pid, t.comm, t.state);
  for (int64_t v : fields) absl::StrAppendFormat(&s, " %d", v);
  // Fields 23-52 are unsigned in Linux's output (rsslim may be ~0).
  const uint64_t ufields[] = {
      m.vm_size, Pages(m.vm_rss), t.rss_limit, m.start_code, m.end_code, m.start_stack,
      0, 0,  // 29-30 kstkesp kstkeip: shown only while the task dumps core
      t.sig_pnd & kOldMask, t.sig_blk & kOldMask, t.sig_ign & kOldMask, t.sig_cgt & kOldMask,
      0, 0, 0,  // 35-37 wchan nswap cnswap
      static_cast<uint64_t>(t.exit_signal),
      0,           // 39 processor
      0, 0, 0, 0,  // 40-43 rt_priority policy delayacct_blkio_ticks guest_time
      0,           // 44 cguest_time
      m.start_data, m.end_data, m.start_brk, m.arg_start, m.arg_end, m.env_start, m.env_end,
  };
  for (uint64_t v : ufields) absl::StrAppendFormat(&s, " %u", v);
  absl::StrAppendFormat(&s, " %d\n", t.exit_code);  // 52
  return s;
}

std::string FormatStatus(const TaskInfo& t) {
  const MemSummary& m = t.mem;
  const vfs::Credentials& c = t.creds;
  std::string s;
  absl::StrAppendFormat(&s, "Name:\t%s\n", t.comm);
  absl::StrAppendFormat(&s, "Umask:\t%04o\n", t.umask);
  absl::StrAppendFormat(&s, "State:\t%s\n", StateName(t.state));
  absl::StrAppendFormat(&s, "Tgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n", t.tgid,
                        t.pid, t.ppid);
  absl::StrAppendFormat(&s, "Uid:\t%u\t%u\t%u\t%u\n", c.uid, c.euid, c.suid, c.fsuid);
  absl::StrAppendFormat(&s, "Gid:\t%u\t%u\t%u\t%u\n", c.gid, c.egid, c.sgid, c.fsgid);
  absl::StrAppendFormat(&s, "FDSize:\t%d\n", t.fd_slots);
  s += "Groups:\t";
  for (size_t i = 0; i < c.groups.size(); i++) {
    absl::StrAppendFormat(&s, "%s%u", i ? " " : "", c.groups[i]);
  }
  s += " \n";  // Linux's trailing blank, kept for parsers that expect it
  // One pid namespace: the namespaced ids are the ids.
  absl::StrAppendFormat(&s, "NStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\n", t.tgid, t.pid,
                        t.pgrp, t.sid);
  auto kb = [&s](const char* key, uint64_t bytes) {
    absl::StrAppendFormat(&s, "%s:\t%8u kB\n", key, Kb(bytes));
  };
  // No peak tracking: the peaks are the current values.
  kb("VmPeak", m.vm_size);
  kb("VmSize", m.vm_size);
  kb("VmLck", 0);
  kb("VmPin", 0);
  kb("VmHWM", m.vm_rss);
  kb("VmRSS", m.vm_rss);
  kb("RssAnon", m.rss_anon);
  kb("RssFile", m.rss_file);
  kb("RssShmem", m.rss_shmem);
  kb("VmData", m.vm_data);
  kb("VmStk", m.vm_stk);
  kb("VmExe", m.vm_exe);
  kb("VmLib", m.vm_lib);
  kb("VmPTE", 0);
  kb("VmSwap", 0);
  s += "HugetlbPages:\t       0 kB\nCoreDumping:\t0\nTHP_enabled:\t1\n";
  absl::StrAppendFormat(&s, "Threads:\t%d\n", t.threads);
  absl::StrAppendFormat(&s, "SigQ:\t%u/%u\n", t.sigq, t.sigq_limit);
  absl::StrAppendFormat(&s, "SigPnd:\t%016x\nShdPnd:\t%016x\n", t.sig_pnd, t.shd_pnd);
  absl::StrAppendFormat(&s, "SigBlk:\t%016x\nSigIgn:\t%016x\nSigCgt:\t%016x\n", t.sig_blk,
                        t.sig_ign, t.sig_cgt);
  absl::StrAppendFormat(&s, "CapInh:\t%016x\nCapPrm:\t%016x\nCapEff:\t%016x\n",
                        c.cap_inheritable & kCapFullSet, c.cap_permitted & kCapFullSet,
                        c.cap_effective & kCapFullSet);
  absl::StrAppendFormat(&s, "CapBnd:\t%016x\nCapAmb:\t%016x\n", kCapFullSet, 0);
  absl::StrAppendFormat(&s, "NoNewPrivs:\t%d\n", t.no_new_privs ? 1 : 0);
  absl::StrAppendFormat(&s, "Seccomp:\t%d\nSeccomp_filters:\t%d\n", t.seccomp_mode,
                        t.seccomp_filters);
  s += "Speculation_Store_Bypass:\tthread vulnerable\n";
  s += "SpeculationIndirectBranch:\tconditional enabled\n";
  absl::StrAppendFormat(&s, "Cpus_allowed:\t%s\nCpus_allowed_list:\t%s\n", CpuMask(t.num_cpus),
                        sysfs::CpuList(t.num_cpus));
  s += "Mems_allowed:\t00000001\nMems_allowed_list:\t0\n";
  s += "voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n";
  return s;
}

std::string FormatStatm(const TaskInfo& t) {
  const MemSummary& m = t.mem;
  return absl::StrFormat("%u %u %u %u 0 %u 0\n", Pages(m.vm_size), Pages(m.vm_rss),
                         Pages(m.rss_file + m.rss_shmem), Pages(m.vm_exe),
                         Pages(m.vm_data + m.vm_stk));
}

std::string FormatLimits(const std::array<struct rlimit, RLIM_NLIMITS>& l) {
  struct Name {
    const char* name;
    const char* unit;  // null: no unit column
  };
  // fs/proc/base.c: lnames[], indexed by RLIMIT_*.
  static constexpr Name kNames[RLIM_NLIMITS] = {
      {"Max cpu time", "seconds"},      {"Max file size", "bytes"},
      {"Max data size", "bytes"},       {"Max stack size", "bytes"},
      {"Max core file size", "bytes"},  {"Max resident set", "bytes"},
      {"Max processes", "processes"},   {"Max open files", "files"},
      {"Max locked memory", "bytes"},   {"Max address space", "bytes"},
      {"Max file locks", "locks"},      {"Max pending signals", "signals"},
      {"Max msgqueue size", "bytes"},   {"Max nice priority", nullptr},
      {"Max realtime priority", nullptr}, {"Max realtime timeout", "us"},
  };
  std::string s = absl::StrFormat("%-25s %-20s %-20s %-10s\n", "Limit", "Soft Limit",
                                  "Hard Limit", "Units");
  auto value = [](rlim_t v) {
    return v == RLIM_INFINITY ? std::string("unlimited") : absl::StrFormat("%u", v);
  };
  for (int i = 0; i < RLIM_NLIMITS; i++) {
    absl::StrAppendFormat(&s, "%-25s %-20s %-20s ", kNames[i].name, value(l[i].rlim_cur),
                          value(l[i].rlim_max));
    if (kNames[i].unit != nullptr) {
      absl::StrAppendFormat(&s, "%-10s\n", kNames[i].unit);
    } else {
      s += '\n';
    }
  }
  return s;
}

}  // namespace sentry::proc
