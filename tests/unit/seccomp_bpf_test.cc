// The seccomp classic-BPF checker and interpreter, and filter chains, on
// their own (sentry/kernel/seccomp/).
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>

#include <cstddef>
#include <vector>

#include "gtest/gtest.h"
#include "sentry/kernel/seccomp/bpf.h"
#include "sentry/kernel/seccomp/filter.h"

namespace sentry::seccomp {
namespace {

using Prog = std::vector<sock_filter>;

sock_filter Stmt(uint16_t code, uint32_t k) { return BPF_STMT(code, k); }
sock_filter Jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) {
  return BPF_JUMP(code, k, jt, jf);
}

constexpr uint32_t kNrOff = offsetof(SeccompData, nr);
constexpr uint32_t kArchOff = offsetof(SeccompData, arch);
constexpr uint32_t kIpOff = offsetof(SeccompData, instruction_pointer);
constexpr uint32_t ArgLo(int i) { return offsetof(SeccompData, args) + 8 * i; }
constexpr uint32_t ArgHi(int i) { return ArgLo(i) + 4; }

SeccompData Data(int nr, uint64_t a0 = 0, uint64_t a1 = 0) {
  SeccompData d{};
  d.nr = nr;
  d.arch = kAuditArchX86_64;
  d.instruction_pointer = 0x1234567890abcdefULL;
  d.args[0] = a0;
  d.args[1] = a1;
  return d;
}

// Denies `nr` with `errno_value`, allows everything else.
Prog DenyNr(int nr, uint32_t errno_value) {
  return {Stmt(BPF_LD | BPF_W | BPF_ABS, kNrOff),
          Jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(nr), 0, 1),
          Stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | errno_value),
          Stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
}

TEST(SeccompBpf, AcceptsAndRunsASimpleFilter) {
  Prog p = DenyNr(SYS_getpid, EPERM);
  ASSERT_EQ(CheckProgram(p), 0);
  EXPECT_EQ(RunProgram(p, Data(SYS_getpid)), SECCOMP_RET_ERRNO | EPERM);
  EXPECT_EQ(RunProgram(p, Data(SYS_read)), SECCOMP_RET_ALLOW);
}

TEST(SeccompBpf, LoadsEveryFieldInHostOrder) {
  const SeccompData d = Data(7, 0x1111222233334444ULL, 0xaaaabbbbccccddddULL);
  auto load = [&](uint32_t off) {
    Prog p = {Stmt(BPF_LD | BPF_W | BPF_ABS, off), Stmt(BPF_RET | BPF_A, 0)};
    EXPECT_EQ(CheckProgram(p), 0);
    return RunProgram(p, d);
  };
  EXPECT_EQ(load(kNrOff), 7u);
  EXPECT_EQ(load(kArchOff), kAuditArchX86_64);
  EXPECT_EQ(load(kIpOff), 0x90abcdefu);
  EXPECT_EQ(load(kIpOff + 4), 0x12345678u);
  EXPECT_EQ(load(ArgLo(0)), 0x33334444u);
  EXPECT_EQ(load(ArgHi(0)), 0x11112222u);
  EXPECT_EQ(load(ArgLo(1)), 0xccccddddu);
  EXPECT_EQ(load(ArgHi(1)), 0xaaaabbbbu);
  EXPECT_EQ(load(ArgHi(5)), 0u);
}

TEST(SeccompBpf, AluJumpsScratchAndLen) {
  // Every ALU operation, scratch memory and each kind of jump, with the
  // value of A after each step.
  Prog p = {
      Stmt(BPF_LD | BPF_W | BPF_LEN, 0),     // A = 64
      Stmt(BPF_MISC | BPF_TAX, 0),           // X = 64
      Stmt(BPF_LD | BPF_IMM, 3),             // A = 3
      Stmt(BPF_ST, 2),                       // M[2] = 3
      Stmt(BPF_ALU | BPF_MUL | BPF_X, 0),    // A = 192
      Stmt(BPF_ALU | BPF_SUB | BPF_K, 2),    // 190
      Stmt(BPF_ALU | BPF_DIV | BPF_K, 2),    // 95
      Stmt(BPF_ALU | BPF_OR | BPF_K, 0x100), // 0x15f
      Stmt(BPF_ALU | BPF_LSH | BPF_K, 2),    // 0x57c
      Stmt(BPF_ALU | BPF_RSH | BPF_K, 1),    // 0x2be
      Stmt(BPF_ALU | BPF_XOR | BPF_K, 0xff), // 0x241
      Stmt(BPF_ALU | BPF_AND | BPF_K, 0xf0f),// 0x201
      Stmt(BPF_ALU | BPF_NEG, 0),            // -0x201
      Stmt(BPF_ALU | BPF_NEG, 0),            // 0x201
      Stmt(BPF_LDX | BPF_MEM, 2),            // X = 3
      Stmt(BPF_ALU | BPF_ADD | BPF_X, 0),    // 0x204
      Jump(BPF_JMP | BPF_JGT | BPF_K, 0x203, 1, 0),
      Stmt(BPF_RET | BPF_K, 1),
      Jump(BPF_JMP | BPF_JGE | BPF_K, 0x205, 0, 1),
      Stmt(BPF_RET | BPF_K, 2),
      Jump(BPF_JMP | BPF_JSET | BPF_K, 0x4, 1, 0),
      Stmt(BPF_RET | BPF_K, 3),
      Stmt(BPF_JMP | BPF_JA, 1),
      Stmt(BPF_RET | BPF_K, 4),
      Stmt(BPF_MISC | BPF_TXA, 0),           // A = 3
      Stmt(BPF_RET | BPF_A, 0),
  };
  ASSERT_EQ(CheckProgram(p), 0);
  EXPECT_EQ(RunProgram(p, Data(0)), 3u);
}

TEST(SeccompBpf, DivisionByZeroInXReturnsZero) {
  Prog p = {Stmt(BPF_LDX | BPF_IMM, 0), Stmt(BPF_LD | BPF_IMM, 10),
            Stmt(BPF_ALU | BPF_DIV | BPF_X, 0), Stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
  ASSERT_EQ(CheckProgram(p), 0);
  EXPECT_EQ(RunProgram(p, Data(0)), 0u);  // SECCOMP_RET_KILL_THREAD
}

TEST(SeccompBpf, RejectsBadPrograms) {
  const sock_filter ret = Stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  EXPECT_EQ(CheckProgram(Prog{}), EINVAL) << "empty";
  EXPECT_EQ(CheckProgram(Prog(kMaxProgramLength, ret)), 0);
  EXPECT_EQ(CheckProgram(Prog(kMaxProgramLength + 1, ret)), EINVAL) << "too long";
  EXPECT_EQ(CheckProgram(Prog{Stmt(BPF_LD | BPF_IMM, 0)}), EINVAL) << "no RET at the end";
  // Loads: out of bounds, unaligned, and sizes/modes seccomp refuses.
  EXPECT_EQ(CheckProgram(Prog{Stmt(BPF_LD | BPF_W | BPF_ABS, 64), ret}), EINVAL);
  EXPECT_EQ(CheckProgram(Prog{Stmt(BPF_LD | BPF_W | BPF_ABS, 2), ret}), EINVAL);
  EXPECT_EQ(CheckProgram(Prog{Stmt(BPF_LD | BPF_W | BPF_ABS, 60), ret}), 0);
  EXPECT_EQ(CheckProgram(Prog{Stmt(BPF_LD | BPF_H | BPF_ABS, 0), ret}), EINVAL);
  EXPECT_EQ(CheckProgram(Prog{Stmt(BPF_LD | BPF_B | BPF_ABS, 0), ret}), EINVAL);
  EXPECT_EQ(CheckProgram(Prog{Stmt(BPF_LD | BPF_W | BPF_IND, 0), ret}), EINVAL);
  EXPECT_EQ(CheckProgram(Prog{Stmt(BPF_LDX | BPF_B | BPF_MSH, 0), ret}), EINVAL);
  EXPECT_EQ(CheckProgram(Prog{Stmt(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF), ret}), EINVAL);
  // ALU: no MOD, no division by a constant 0, no shift by 32 or more.
  EXPECT_EQ(CheckProgram(Prog{Stmt(BPF_ALU | BPF_MOD | BPF_K, 3), ret}), EINVAL);
  EXPECT_EQ(CheckProgram(Prog{Stmt(BPF_ALU | BPF_DIV | BPF_K, 0), ret}), EINVAL);
  EXPECT_EQ(CheckProgram(Prog{Stmt(BPF_ALU | BPF_LSH | BPF_K, 32), ret}), EINVAL);
  EXPECT_EQ(CheckProgram(Prog{Stmt(BPF_ALU | BPF_RSH | BPF_K, 31), ret}), 0);
  // Unknown opcodes and RET of X.
  EXPECT_EQ(CheckProgram(Prog{Stmt(0xffff, 0), ret}), EINVAL);
  EXPECT_EQ(CheckProgram(Prog{Stmt(BPF_RET | BPF_X, 0)}), EINVAL);
  // Scratch memory: index range, and reads before a store.
  EXPECT_EQ(CheckProgram(Prog{Stmt(BPF_ST, 16), ret}), EINVAL);
  EXPECT_EQ(CheckProgram(Prog{Stmt(BPF_LD | BPF_MEM, 0), ret}), EINVAL);
  EXPECT_EQ(CheckProgram(Prog{Stmt(BPF_ST, 0), Stmt(BPF_LD | BPF_MEM, 0), ret}), 0);
}

TEST(SeccompBpf, RejectsJumpsOutOfRange) {
  const sock_filter ret = Stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  EXPECT_EQ(CheckProgram(Prog{Stmt(BPF_JMP | BPF_JA, 1), ret}), EINVAL);
  EXPECT_EQ(CheckProgram(Prog{Stmt(BPF_JMP | BPF_JA, 0), ret}), 0);
  EXPECT_EQ(CheckProgram(Prog{Stmt(BPF_JMP | BPF_JA, 0xffffffff), ret}), EINVAL);
  EXPECT_EQ(CheckProgram(Prog{Jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0), ret}), EINVAL);
  EXPECT_EQ(CheckProgram(Prog{Jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1), ret}), EINVAL);
  EXPECT_EQ(CheckProgram(Prog{Jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 0), ret}), 0);
}

TEST(SeccompBpf, ScratchMustBeStoredOnEveryPath) {
  const sock_filter ret = Stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  // Stored only when the jump is not taken: the read after the join fails.
  Prog one_path = {Jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0), Stmt(BPF_ST, 3),
                   Stmt(BPF_LD | BPF_MEM, 3), ret};
  EXPECT_EQ(CheckProgram(one_path), EINVAL);
  Prog both_paths = {Stmt(BPF_ST, 3), Jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0),
                     Stmt(BPF_ST, 3), Stmt(BPF_LD | BPF_MEM, 3), ret};
  EXPECT_EQ(CheckProgram(both_paths), 0);
}

TEST(SeccompFilter, ChainPrecedenceAndNewestDataOnTies) {
  auto f1 = Filter::Create(DenyNr(SYS_getpid, 1), nullptr, false);
  ASSERT_TRUE(f1.ok());
  auto f2 = Filter::Create(DenyNr(SYS_getpid, 2), *f1, false);
  ASSERT_TRUE(f2.ok());
  Prog trap_getpid = {Stmt(BPF_LD | BPF_W | BPF_ABS, kNrOff),
                      Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpid, 0, 1),
                      Stmt(BPF_RET | BPF_K, SECCOMP_RET_TRAP | 9),
                      Stmt(BPF_RET | BPF_K, SECCOMP_RET_LOG)};
  auto f3 = Filter::Create(trap_getpid, *f2, false);
  ASSERT_TRUE(f3.ok());
  EXPECT_EQ((*f2)->count(), 2);
  EXPECT_EQ((*f3)->count(), 3);
  // Two ERRNOs: the newer filter's data wins.
  EXPECT_EQ((*f2)->Evaluate(Data(SYS_getpid)), SECCOMP_RET_ERRNO | 2);
  // TRAP outranks ERRNO; LOG outranks ALLOW.
  EXPECT_EQ((*f3)->Evaluate(Data(SYS_getpid)), SECCOMP_RET_TRAP | 9);
  EXPECT_EQ((*f3)->Evaluate(Data(SYS_read)), SECCOMP_RET_LOG);
  // KILL_PROCESS (0x80000000) outranks everything, KILL_THREAD (0) too.
  auto kp = Filter::Create({Stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS)}, *f3, false);
  ASSERT_TRUE(kp.ok());
  EXPECT_EQ((*kp)->Evaluate(Data(SYS_getpid)), SECCOMP_RET_KILL_PROCESS);
  auto kt = Filter::Create({Stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_THREAD)}, *f3, false);
  ASSERT_TRUE(kt.ok());
  EXPECT_EQ((*kt)->Evaluate(Data(SYS_getpid)), SECCOMP_RET_KILL_THREAD);
  EXPECT_TRUE((*kt)->HasAncestor(f1->get()));
  EXPECT_FALSE((*f1)->HasAncestor(kt->get()));
}

TEST(SeccompBpf, TranslatedLengthFollowsLinux) {
  const sock_filter ret_k = Stmt(BPF_RET | BPF_K, 0);
  EXPECT_EQ(TranslatedLength(Prog{ret_k}), 5u);  // prologue 3 + mov + exit
  EXPECT_EQ(TranslatedLength(Prog{Stmt(BPF_RET | BPF_A, 0)}), 4u);
  EXPECT_EQ(TranslatedLength(Prog{Stmt(BPF_ALU | BPF_DIV | BPF_X, 0), ret_k}), 10u);
  EXPECT_EQ(TranslatedLength(Prog{Jump(BPF_JMP | BPF_JEQ | BPF_K, 1, 1, 0), ret_k, ret_k}), 8u);
  EXPECT_EQ(TranslatedLength(Prog{Jump(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1), ret_k, ret_k}), 8u);
  EXPECT_EQ(TranslatedLength(Prog{Jump(BPF_JMP | BPF_JSET | BPF_K, 1, 0, 1), ret_k, ret_k}),
            9u);
  EXPECT_EQ(TranslatedLength(Prog{Jump(BPF_JMP | BPF_JEQ | BPF_K, 1, 1, 1), ret_k, ret_k,
                                  ret_k}),
            11u);
  EXPECT_EQ(
      TranslatedLength(Prog{Jump(BPF_JMP | BPF_JEQ | BPF_K, 0x80000000, 1, 0), ret_k, ret_k}),
      9u);
  EXPECT_EQ(TranslatedLength(Prog{Stmt(BPF_LD | BPF_W | BPF_ABS, 0), ret_k}), 6u);
}

TEST(SeccompFilter, PathLengthLimit) {
  // Each filter costs its translated length plus 4; the new one only its
  // length. 4096 RET K translate to 3 + 8192 = 8195 instructions.
  Prog big(kMaxProgramLength, Stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  std::shared_ptr<const Filter> chain;
  for (int i = 0; i < 3; i++) {
    auto f = Filter::Create(big, chain, false);
    ASSERT_TRUE(f.ok()) << i;
    chain = *f;
  }
  // 3 * 8199 = 24597 installed; 8195 more is 32792 > 32768.
  auto over = Filter::Create(big, chain, false);
  EXPECT_EQ(over.error(), ENOMEM);
  // 32768 - 24597 = 8171 = 3 + 2 * 4084 still fits, one more does not.
  auto too_big = Filter::Create(Prog(4085, Stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)), chain, false);
  EXPECT_EQ(too_big.error(), ENOMEM);
  auto fits = Filter::Create(Prog(4084, Stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)), chain, false);
  EXPECT_TRUE(fits.ok());
  auto bad = Filter::Create(Prog{}, chain, false);
  EXPECT_EQ(bad.error(), EINVAL);
}

TEST(SeccompFilter, LongChainsFreeWithoutDeepRecursion) {
  std::shared_ptr<const Filter> chain;
  // Each costs 5 + 4: 3640 of them fit in a path.
  for (int i = 0; i < 3600; i++) {
    auto f = Filter::Create({Stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)}, chain, false);
    ASSERT_TRUE(f.ok()) << i;
    chain = *f;
  }
  EXPECT_EQ(chain->count(), 3600);
  chain.reset();
}

}  // namespace
}  // namespace sentry::seccomp
