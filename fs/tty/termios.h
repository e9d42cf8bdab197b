// The terminal ABI: the kernel's struct termios (not glibc's, which is
// bigger), termios2, struct winsize, and the settings a new pty starts
// with (drivers/tty/tty_io.c's tty_std_termios, as pty.c adjusts it).
#ifndef FS_TTY_TERMIOS_H_
#define FS_TTY_TERMIOS_H_

#include <asm/termbits.h>

#include <cstdint>

namespace sentry::tty {

inline constexpr int kNccs = 19;  // the kernel's NCCS

// TCGETS/TCSETS* (asm-generic/termbits.h's struct termios).
struct KernelTermios {
  uint32_t c_iflag = 0;
  uint32_t c_oflag = 0;
  uint32_t c_cflag = 0;
  uint32_t c_lflag = 0;
  uint8_t c_line = 0;
  uint8_t c_cc[kNccs] = {};
};
static_assert(sizeof(KernelTermios) == 36);

// TCGETS2/TCSETS2*: the same plus the line speeds.
struct KernelTermios2 {
  KernelTermios t;
  uint32_t c_ispeed = 0;
  uint32_t c_ospeed = 0;
};
static_assert(sizeof(KernelTermios2) == 44);

// TCGETA/TCSETA*: the System V struct termio, 16-bit flags and NCC (8)
// control characters; setting keeps the flags' upper halves.
inline constexpr int kNcc = 8;
struct KernelTermio {
  uint16_t c_iflag = 0;
  uint16_t c_oflag = 0;
  uint16_t c_cflag = 0;
  uint16_t c_lflag = 0;
  uint8_t c_line = 0;
  uint8_t c_cc[kNcc] = {};
  uint8_t pad = 0;  // the C struct's trailing padding, always 0 here
};
static_assert(sizeof(KernelTermio) == 18);

struct Winsize {
  uint16_t ws_row = 0, ws_col = 0, ws_xpixel = 0, ws_ypixel = 0;
};
static_assert(sizeof(Winsize) == 8);

inline constexpr uint8_t kDisabledChar = 0;  // _POSIX_VDISABLE
inline constexpr uint32_t kDefaultSpeed = 38400;

// ICRNL|IXON, OPOST|ONLCR, B38400|CS8|CREAD, and the canonical echoing
// line discipline with ^C ^\ ^? ^U ^D and friends.
inline KernelTermios DefaultTermios() {
  KernelTermios t;
  t.c_iflag = ICRNL | IXON;
  t.c_oflag = OPOST | ONLCR;
  t.c_cflag = B38400 | CS8 | CREAD;
  t.c_lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN;
  const uint8_t cc[kNccs] = {3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0, 0, 0};
  for (int i = 0; i < kNccs; i++) t.c_cc[i] = cc[i];
  return t;
}

}  // namespace sentry::tty

#endif  // FS_TTY_TERMIOS_H_
