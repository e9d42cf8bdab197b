// The pty line discipline as a data structure (fs/tty/line_discipline.h):
// what the syscall tests cannot reach directly, such as the flip buffer
// limit and output expansion, plus the editing rules in isolation.
#include "fs/tty/line_discipline.h"

#include <signal.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace sentry::tty {
namespace {

struct Ld {
  LineDiscipline ld;
  std::vector<int> sigs;
  size_t In(const std::string& s) {
    return ld.Receive(reinterpret_cast<const uint8_t*>(s.data()), s.size(), &sigs);
  }
  std::string Read(size_t max = 8192) {
    std::string buf(max, '\0');
    BufferIOSequence io(buf.data(), buf.size());
    auto r = ld.ReadInput(io);
    if (!r.ok()) return "<err>";
    buf.resize(*r);
    return buf;
  }
  std::string Out() {
    std::string buf(1 << 20, '\0');
    BufferIOSequence io(buf.data(), buf.size());
    auto r = ld.ReadOutput(io);
    buf.resize(r.ok() ? *r : 0);
    return buf;
  }
  void Lflag(uint32_t set, uint32_t clear) {
    KernelTermios t = ld.termios();
    t.c_lflag = (t.c_lflag | set) & ~clear;
    ld.SetTermios(t);
  }
};

TEST(LineDisciplineTest, CanonicalLinesAndEcho) {
  Ld l;
  EXPECT_EQ(l.In("ab\x7f" "c\n"), 5u);
  EXPECT_TRUE(l.ld.InputReadable());
  EXPECT_EQ(l.ld.InputQueued(), 3u);
  EXPECT_EQ(l.Read(), "ac\n");
  EXPECT_EQ(l.Out(), "ab\b \bc\r\n");
  EXPECT_FALSE(l.ld.InputReadable());
}

TEST(LineDisciplineTest, EofMarksAreNotRead) {
  Ld l;
  l.In("x\x04\x04");
  EXPECT_EQ(l.ld.InputQueued(), 1u);
  EXPECT_EQ(l.Read(), "x");
  EXPECT_TRUE(l.ld.InputReadable());
  EXPECT_EQ(l.Read(), "");  // end of file
  EXPECT_FALSE(l.ld.InputReadable());
}

TEST(LineDisciplineTest, SignalsFlushUnlessNoflsh) {
  Ld l;
  l.In("abc\x03");
  ASSERT_EQ(l.sigs.size(), 1u);
  EXPECT_EQ(l.sigs[0], SIGINT);
  l.In("\n");
  EXPECT_EQ(l.Read(), "\n");
  l.Lflag(NOFLSH, 0);
  l.sigs.clear();
  l.In("d\x1a\x1c\n");
  EXPECT_EQ(l.sigs, (std::vector<int>{SIGTSTP, SIGQUIT}));
  EXPECT_EQ(l.Read(), "d\n");
}

TEST(LineDisciplineTest, LongLineKeepsItsStartAndNewline) {
  Ld l;
  l.Lflag(0, ECHO);
  std::string line(6000, 'z');
  EXPECT_EQ(l.In(line + "\n"), line.size() + 1);
  EXPECT_EQ(l.Read(), std::string(kMaxLine, 'z') + "\n");
}

TEST(LineDisciplineTest, FlipBufferFillsWhenNobodyReads) {
  Ld l;
  l.Lflag(0, ICANON | ECHO);
  std::string chunk(4096, 'q');
  size_t taken = 0;
  for (int i = 0; i < 40; i++) taken += l.In(chunk);
  // The read buffer plus the flip buffer, then nothing more.
  EXPECT_EQ(taken, kMaxLine + kPendingLimit);
  EXPECT_TRUE(l.ld.PendingFull());
  EXPECT_EQ(l.Read(100).size(), 100u);
  std::vector<int> sigs;
  l.ld.Drain(&sigs);
  EXPECT_FALSE(l.ld.PendingFull());
}

TEST(LineDisciplineTest, OutputProcessing) {
  Ld l;
  const std::string s = "a\tb\n";
  l.ld.Write(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  EXPECT_EQ(l.Out(), "a\tb\r\n");
  KernelTermios t = l.ld.termios();
  t.c_oflag |= XTABS;
  l.ld.SetTermios(t);
  l.ld.Write(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  EXPECT_EQ(l.Out(), "a       b\r\n");
}

TEST(LineDisciplineTest, ErasingATabBacksUpToItsColumn) {
  Ld l;
  l.In("ab\t\x7f");
  EXPECT_EQ(l.Out(), "ab\t\b\b\b\b\b\b");
  l.In("\n");
  EXPECT_EQ(l.Read(), "ab\n");
}

TEST(LineDisciplineTest, StopAndStartCharacters) {
  Ld l;
  l.In("\x13");
  EXPECT_TRUE(l.ld.stopped());
  EXPECT_FALSE(l.ld.OutputRoom());
  l.In("\x11");
  EXPECT_FALSE(l.ld.stopped());
  EXPECT_EQ(l.ld.InputQueued(), 0u);  // neither is input
}

}  // namespace
}  // namespace sentry::tty
