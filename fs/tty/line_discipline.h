// The line discipline of a pty's replica side (Linux's n_tty): input
// processing of what the master writes, canonical line editing, echo,
// the signal characters, and output processing of what the replica
// writes. A plain data structure: the Pty that owns it locks it.
//
// Queues, as Linux has them:
//   pending_  what the master wrote that the line discipline has not
//             taken yet (the flip buffer, kPendingLimit bytes): a master
//             write fills it and returns, so it blocks only when it is full;
//   input_    the read buffer (N_TTY_BUF_SIZE): received characters; in
//             canonical mode the first canon_count_ entries are complete
//             lines, the rest the line being edited;
//   output_   what the master reads: processed replica output and echoes.
//
// Canonical lines hold at most kMaxLine characters; further ordinary
// characters are dropped until the line ends (termios(3)).
#ifndef FS_TTY_LINE_DISCIPLINE_H_
#define FS_TTY_LINE_DISCIPLINE_H_

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "fs/tty/termios.h"
#include "fs/vfs/iosequence.h"
#include "sentry/base/error.h"

namespace sentry::tty {

inline constexpr size_t kInputBufSize = 4096;     // N_TTY_BUF_SIZE
inline constexpr size_t kMaxLine = kInputBufSize - 1;
inline constexpr size_t kPendingLimit = 65536;    // the flip buffer's memory limit
inline constexpr size_t kOutputLimit = kInputBufSize + kPendingLimit;
inline constexpr size_t kOutputChunk = 4096;
inline constexpr size_t kOutputHardLimit = kOutputLimit + 8 * kOutputChunk;

class LineDiscipline {
 public:
  LineDiscipline() : termios_(DefaultTermios()) {}

  const KernelTermios& termios() const { return termios_; }
  // n_tty_set_termios: switching ICANON re-frames what is queued.
  void SetTermios(const KernelTermios& t);
  bool canonical() const { return termios_.c_lflag & ICANON; }

  // --- input (master writes, replica reads) ---
  // Queues up to `n` bytes in the flip buffer and processes what fits;
  // returns how many were taken (0: the flip buffer is full). Signals
  // that characters raised are appended to `signals`.
  size_t Receive(const uint8_t* p, size_t n, std::vector<int>* signals);
  // Processes flip-buffered bytes while the read buffer has room (after a
  // read made some).
  void Drain(std::vector<int>* signals);
  bool PendingFull() const { return pending_.size() >= kPendingLimit; }
  // Whether a read would return something: a complete line in canonical
  // mode, else at least `min` characters.
  bool InputReadable(size_t min = 1) const;
  size_t InputAvailable() const;  // characters a non-canonical read may take
  // FIONREAD on the replica: canonical lines' bytes (without EOF marks),
  // or everything queued.
  size_t InputQueued() const;
  // Moves input to `dst`: in canonical mode at most one line (an EOF mark
  // ends it and is not copied), else what is queued. EFAULT when nothing
  // could be copied to a bad buffer.
  ErrorOr<size_t> ReadInput(IOSequence& dst);
  void FlushInput();

  // --- output (replica writes, master reads) ---
  // Output-processes bytes into output_. Callers check OutputRoom() and
  // write at most kOutputChunk bytes: processing may expand them (ONLCR,
  // XTABS) past kOutputLimit, never past kOutputHardLimit, where echoes of
  // a terminal nobody reads are dropped.
  void Write(const uint8_t* p, size_t n);
  bool OutputRoom() const { return !stopped_ && output_.size() + 2 <= kOutputLimit; }
  size_t OutputQueued() const { return output_.size(); }
  ErrorOr<size_t> ReadOutput(IOSequence& dst);
  void FlushOutput() { output_.clear(); }
  // TIOCSTI on the master: a byte for the master to read, unprocessed.
  void InjectOutput(uint8_t c) { OutputRaw(c); }
  bool stopped() const { return stopped_; }
  void set_stopped(bool s) { stopped_ = s; }

 private:
  struct Entry {
    uint8_t c;
    bool delim;  // ends a canonical line
    bool eof;    // an EOF mark: ends the line, never read
  };
  bool L(uint32_t f) const { return termios_.c_lflag & f; }
  bool I(uint32_t f) const { return termios_.c_iflag & f; }
  bool O(uint32_t f) const { return termios_.c_oflag & f; }
  bool IsCc(uint8_t c, int idx) const {
    return termios_.c_cc[idx] != kDisabledChar && c == termios_.c_cc[idx];
  }
  bool HasRoom() const;
  void ReceiveChar(uint8_t c, std::vector<int>* signals);
  void Isig(uint8_t c, int sig, std::vector<int>* signals);
  void PutChar(uint8_t c, bool delim = false, bool eof = false);
  // Erases the last character (or word, or line) of the line being edited.
  enum class Erase { kChar, kWord, kLine };
  void Eraser(uint8_t c, Erase kind);
  // Echo: a character as the terminal shows it (^X with ECHOCTL).
  void EchoChar(uint8_t c);
  // One output character through OPOST processing (do_output_char).
  void OutputChar(uint8_t c);
  void OutputRaw(uint8_t c);
  // A UTF-8 continuation byte under IUTF8.
  bool IsContinuation(uint8_t c) const;
  // The display width of `c` at `col` when echoed.
  size_t EchoWidth(uint8_t c, size_t col) const;

  KernelTermios termios_;
  std::deque<uint8_t> pending_;
  std::deque<Entry> input_;
  size_t canon_count_ = 0;  // entries of input_ in complete lines
  bool lnext_ = false;      // the next character is literal (VLNEXT)
  size_t canon_column_ = 0; // the output column where the edited line began
  std::string output_;
  size_t column_ = 0;       // the output column (ONOCR, tabs, erase)
  bool stopped_ = false;    // output stopped by the STOP character
};

}  // namespace sentry::tty

#endif  // FS_TTY_LINE_DISCIPLINE_H_
