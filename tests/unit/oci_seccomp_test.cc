// OCI linux.seccomp profiles compiled by runsc with libseccomp, then
// checked and run by the Sentry's own BPF checker and interpreter: the two
// must agree on what libseccomp produces.
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>

#include <cstring>
#include <fstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "gtest/gtest.h"
#include "runsc/oci_seccomp.h"
#include "sentry/kernel/seccomp/bpf.h"

namespace runsc {
namespace {

using nlohmann::json;
using sentry::seccomp::SeccompData;

std::vector<sock_filter> Compile(const json& profile) {
  auto bpf = CompileOciSeccomp(profile);
  EXPECT_TRUE(bpf.ok()) << bpf.status();
  if (!bpf.ok()) return {};
  std::vector<sock_filter> prog(bpf->size() / sizeof(sock_filter));
  memcpy(prog.data(), bpf->data(), prog.size() * sizeof(sock_filter));
  EXPECT_EQ(sentry::seccomp::CheckProgram(prog), 0);
  return prog;
}

uint32_t Verdict(const std::vector<sock_filter>& prog, long nr, uint64_t a0 = 0, uint64_t a1 = 0,
                 uint64_t a2 = 0) {
  SeccompData d{};
  d.nr = static_cast<int32_t>(nr);
  d.arch = sentry::seccomp::kAuditArchX86_64;
  d.args[0] = a0;
  d.args[1] = a1;
  d.args[2] = a2;
  return sentry::seccomp::RunProgram(prog, d);
}

TEST(OciSeccomp, DenyOneSyscallWithErrno) {
  auto prog = Compile(json::parse(R"({
    "defaultAction": "SCMP_ACT_ALLOW",
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"],
    "syscalls": [{"names": ["mkdir", "mkdirat", "not_a_syscall"], "action": "SCMP_ACT_ERRNO",
                  "errnoRet": 1}]})"));
  ASSERT_FALSE(prog.empty());
  EXPECT_EQ(Verdict(prog, SYS_mkdir), SECCOMP_RET_ERRNO | 1);
  EXPECT_EQ(Verdict(prog, SYS_mkdirat), SECCOMP_RET_ERRNO | 1);
  EXPECT_EQ(Verdict(prog, SYS_read), SECCOMP_RET_ALLOW);
  // Another architecture is not the sandbox's: libseccomp's bad-arch verdict.
  SeccompData d{};
  d.nr = SYS_read;
  d.arch = 0x40000003;  // AUDIT_ARCH_I386
  EXPECT_NE(sentry::seccomp::RunProgram(prog, d), SECCOMP_RET_ALLOW);
}

TEST(OciSeccomp, ArgumentsAndActions) {
  auto prog = Compile(json::parse(R"({
    "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
    "syscalls": [
      {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
      {"names": ["fcntl"], "action": "SCMP_ACT_ALLOW",
       "args": [{"index": 1, "value": 3, "op": "SCMP_CMP_EQ"}]},
      {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
       "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"},
                {"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
      {"names": ["clone"], "action": "SCMP_ACT_TRAP",
       "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
      {"names": ["getppid"], "action": "SCMP_ACT_KILL_PROCESS"},
      {"names": ["gettid"], "action": "SCMP_ACT_LOG"}]})"));
  ASSERT_FALSE(prog.empty());
  EXPECT_EQ(Verdict(prog, SYS_read), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Verdict(prog, SYS_mkdir), SECCOMP_RET_ERRNO | 38);
  EXPECT_EQ(Verdict(prog, SYS_fcntl, 0, 3), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Verdict(prog, SYS_fcntl, 0, 4), SECCOMP_RET_ERRNO | 38);
  // Two conditions on one argument are alternatives.
  EXPECT_EQ(Verdict(prog, SYS_personality, 0), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Verdict(prog, SYS_personality, 8), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Verdict(prog, SYS_personality, 1), SECCOMP_RET_ERRNO | 38);
  // (flags & 0x7e020000) == 0: no namespace flags.
  EXPECT_EQ(Verdict(prog, SYS_clone, 0x00010000), SECCOMP_RET_TRAP);
  EXPECT_EQ(Verdict(prog, SYS_clone, 0x10000000), SECCOMP_RET_ERRNO | 38);
  EXPECT_EQ(Verdict(prog, SYS_getppid), SECCOMP_RET_KILL_PROCESS);
  EXPECT_EQ(Verdict(prog, SYS_gettid), SECCOMP_RET_LOG);
}

TEST(OciSeccomp, RefusesWhatTheSandboxCannotDo) {
  auto notify = CompileOciSeccomp(json::parse(R"({"defaultAction": "SCMP_ACT_ALLOW",
    "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]})"));
  EXPECT_TRUE(absl::IsUnimplemented(notify.status())) << notify.status();
  auto listener = CompileOciSeccomp(json::parse(
      R"({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/notify.sock"})"));
  EXPECT_TRUE(absl::IsUnimplemented(listener.status())) << listener.status();
  auto bad_action = CompileOciSeccomp(json::parse(R"({"defaultAction": "SCMP_ACT_BOGUS"})"));
  EXPECT_TRUE(absl::IsInvalidArgument(bad_action.status())) << bad_action.status();
  auto bad_op = CompileOciSeccomp(json::parse(R"({"defaultAction": "SCMP_ACT_ALLOW",
    "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO",
                  "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_BOGUS"}]}]})"));
  EXPECT_TRUE(absl::IsInvalidArgument(bad_op.status())) << bad_op.status();
}

TEST(OciSeccomp, PodmansDefaultProfile) {
  std::ifstream in("/usr/share/containers/seccomp.json");
  if (!in) GTEST_SKIP() << "no containers-common default profile here";
  auto prog = Compile(json::parse(in));
  ASSERT_FALSE(prog.empty());
  EXPECT_EQ(Verdict(prog, SYS_read), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Verdict(prog, SYS_execve), SECCOMP_RET_ALLOW);
  EXPECT_NE(Verdict(prog, SYS_kexec_load), SECCOMP_RET_ALLOW);
}

}  // namespace
}  // namespace runsc
