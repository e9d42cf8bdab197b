// n_tty's receive, echo, read and output paths (see line_discipline.h).
#include "fs/tty/line_discipline.h"

#include <signal.h>

#include <algorithm>

namespace sentry::tty {
namespace {

bool IsCntrl(uint8_t c) { return c < 0x20 || c == 0x7f; }

}  // namespace

void LineDiscipline::SetTermios(const KernelTermios& t) {
  const bool was_canon = canonical();
  termios_ = t;
  if (was_canon != canonical()) {
    // n_tty_set_termios: line marks are dropped; entering canonical mode
    // with data queued makes all of it one line.
    for (Entry& e : input_) e.delim = false;
    canon_count_ = 0;
    lnext_ = false;
    if (canonical() && !input_.empty()) {
      input_.back().delim = true;
      canon_count_ = input_.size();
    }
  }
  if (!I(IXON)) stopped_ = false;
}

bool LineDiscipline::HasRoom() const {
  // Canonical mode with no complete line never stops taking input, so
  // that erase and newline still work on an over-long line.
  if (canonical() && canon_count_ == 0) return true;
  return input_.size() < kMaxLine;
}

size_t LineDiscipline::Receive(const uint8_t* p, size_t n, std::vector<int>* signals) {
  size_t take = std::min(n, kPendingLimit - std::min(kPendingLimit, pending_.size()));
  pending_.insert(pending_.end(), p, p + take);
  Drain(signals);
  return take;
}

void LineDiscipline::Drain(std::vector<int>* signals) {
  while (!pending_.empty() && HasRoom()) {
    uint8_t c = pending_.front();
    pending_.pop_front();
    ReceiveChar(c, signals);
  }
}

void LineDiscipline::PutChar(uint8_t c, bool delim, bool eof) {
  input_.push_back(Entry{c, delim, eof});
  if (delim) canon_count_ = input_.size();
}

void LineDiscipline::Isig(uint8_t c, int sig, std::vector<int>* signals) {
  if (!L(NOFLSH)) {
    // isig(): the read buffer and the unread flip buffer go.
    FlushInput();
  }
  signals->push_back(sig);
  if (I(IXON)) stopped_ = false;
  if (L(ECHO)) EchoChar(c);
}

void LineDiscipline::ReceiveChar(uint8_t c, std::vector<int>* signals) {
  if (I(ISTRIP)) c &= 0x7f;
  if (lnext_) {
    lnext_ = false;
    if (L(ECHO)) EchoChar(c);
    // A literal character still counts against the line limit.
    if (!canonical() || input_.size() - canon_count_ < kMaxLine) PutChar(c);
    return;
  }
  if (I(IXON)) {
    if (IsCc(c, VSTOP)) {
      stopped_ = true;
      return;
    }
    if (IsCc(c, VSTART)) {
      stopped_ = false;
      return;
    }
    if (I(IXANY)) stopped_ = false;
  }
  if (L(ISIG)) {
    if (IsCc(c, VINTR)) return Isig(c, SIGINT, signals);
    if (IsCc(c, VQUIT)) return Isig(c, SIGQUIT, signals);
    if (IsCc(c, VSUSP)) return Isig(c, SIGTSTP, signals);
  }
  if (c == '\r') {
    if (I(IGNCR)) return;
    if (I(ICRNL)) c = '\n';
  } else if (c == '\n' && I(INLCR)) {
    c = '\r';
  }
  if (canonical()) {
    if (IsCc(c, VERASE)) return Eraser(c, Erase::kChar);
    if (IsCc(c, VKILL)) return Eraser(c, Erase::kLine);
    if (L(IEXTEN) && IsCc(c, VWERASE)) return Eraser(c, Erase::kWord);
    if (L(IEXTEN) && IsCc(c, VLNEXT)) {
      lnext_ = true;
      if (L(ECHO)) {
        OutputRaw('^');
        OutputRaw('\b');
      }
      return;
    }
    if (c == '\n') {
      if (L(ECHO) || L(ECHONL)) OutputChar('\n');
      PutChar(c, /*delim=*/true);
      return;
    }
    if (IsCc(c, VEOF)) {
      PutChar(kDisabledChar, /*delim=*/true, /*eof=*/true);
      return;
    }
    if (IsCc(c, VEOL) || (L(IEXTEN) && IsCc(c, VEOL2))) {
      if (L(ECHO)) {
        if (input_.size() == canon_count_) canon_column_ = column_;
        EchoChar(c);
      }
      PutChar(c, /*delim=*/true);
      return;
    }
    // Past the line limit only line endings and editing get through.
    if (input_.size() - canon_count_ >= kMaxLine) return;
  }
  if (L(ECHO)) {
    if (canonical() && input_.size() == canon_count_) canon_column_ = column_;
    EchoChar(c);
  }
  PutChar(c);
}

bool LineDiscipline::IsContinuation(uint8_t c) const { return I(IUTF8) && (c & 0xc0) == 0x80; }

size_t LineDiscipline::EchoWidth(uint8_t c, size_t col) const {
  if (c == '\t') return 8 - (col & 7);
  if (IsContinuation(c)) return 0;  // part of the character before
  if (IsCntrl(c)) return L(ECHOCTL) ? 2 : 0;
  return 1;
}

void LineDiscipline::Eraser(uint8_t c, Erase kind) {
  if (input_.size() == canon_count_) return;  // nothing on this line
  if (kind == Erase::kLine && (!L(ECHO) || !L(ECHOK) || !L(ECHOKE) || !L(ECHOE))) {
    // The whole line goes at once; the terminal sees the kill character.
    input_.resize(canon_count_);
    if (L(ECHO)) {
      EchoChar(c);
      if (L(ECHOK)) OutputChar('\n');
    }
    return;
  }
  if (kind == Erase::kChar && L(ECHO) && !L(ECHOE)) {
    input_.pop_back();
    EchoChar(c);
    return;
  }
  bool seen_alnum = false;
  while (input_.size() > canon_count_) {
    uint8_t e = input_.back().c;
    if (kind == Erase::kWord) {
      bool alnum = (e >= '0' && e <= '9') || (e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') ||
                   e == '_';
      if (alnum) {
        seen_alnum = true;
      } else if (seen_alnum) {
        break;
      }
    }
    // The columns the character took: replay the line from its start.
    size_t before = canon_column_, after = canon_column_;
    for (size_t i = canon_count_; i < input_.size(); i++) {
      if (i + 1 == input_.size()) after = before;
      before += EchoWidth(input_[i].c, before);
    }
    input_.pop_back();
    // IUTF8: a character's continuation bytes go with it.
    if (IsContinuation(e) && input_.size() > canon_count_) continue;
    if (L(ECHO)) {
      size_t cols = before - after;
      if (e == '\t') {
        for (size_t i = 0; i < cols; i++) OutputRaw('\b');
      } else {
        for (size_t i = 0; i < cols; i++) {
          OutputRaw('\b');
          OutputRaw(' ');
          OutputRaw('\b');
        }
      }
    }
    if (kind == Erase::kChar) break;
  }
}

void LineDiscipline::EchoChar(uint8_t c) {
  if (L(ECHOCTL) && IsCntrl(c) && c != '\t' && c != '\n') {
    OutputRaw('^');
    OutputRaw(c ^ 0100);
    return;
  }
  OutputChar(c);
}

void LineDiscipline::OutputRaw(uint8_t c) {
  if (output_.size() >= kOutputHardLimit) return;
  output_.push_back(static_cast<char>(c));
  if (c == '\b') {
    if (column_ > 0) column_--;
  } else if (c == '\r' || c == '\n') {
    column_ = 0;
  } else if (!IsCntrl(c)) {
    column_++;
  }
}

void LineDiscipline::OutputChar(uint8_t c) {
  if (!O(OPOST)) {
    OutputRaw(c);
    return;
  }
  switch (c) {
    case '\n':
      if (O(ONLCR)) {
        OutputRaw('\r');
        OutputRaw('\n');
        return;
      }
      if (O(ONLRET)) column_ = 0;
      OutputRaw('\n');
      if (!O(ONLRET)) column_ = 0;
      return;
    case '\r':
      if (O(ONOCR) && column_ == 0) return;
      if (O(OCRNL)) {
        OutputRaw('\n');
        return;
      }
      OutputRaw('\r');
      return;
    case '\t': {
      size_t spaces = 8 - (column_ & 7);
      if ((termios_.c_oflag & TABDLY) == XTABS) {
        for (size_t i = 0; i < spaces; i++) OutputRaw(' ');
        return;
      }
      OutputRaw('\t');
      column_ += spaces;
      return;
    }
    default:
      if (O(OLCUC) && c >= 'a' && c <= 'z') c = c - 'a' + 'A';
      OutputRaw(c);
      return;
  }
}

bool LineDiscipline::InputReadable(size_t min) const {
  if (canonical()) return canon_count_ > 0;
  return input_.size() >= std::max<size_t>(min, 1);
}

size_t LineDiscipline::InputAvailable() const { return canonical() ? 0 : input_.size(); }

size_t LineDiscipline::InputQueued() const {
  if (!canonical()) return input_.size();
  size_t n = 0;
  for (size_t i = 0; i < canon_count_; i++) n += input_[i].eof ? 0 : 1;
  return n;
}

ErrorOr<size_t> LineDiscipline::ReadInput(IOSequence& dst) {
  const size_t want = dst.remaining();
  std::string chunk;
  size_t entries = 0;  // entries the chunk covers
  if (canonical()) {
    while (entries < canon_count_ && chunk.size() < want) {
      const Entry& e = input_[entries];
      entries++;
      if (!e.eof) chunk.push_back(static_cast<char>(e.c));
      if (e.delim) break;
    }
  } else {
    entries = std::min(want, input_.size());
    for (size_t i = 0; i < entries; i++) chunk.push_back(static_cast<char>(input_[i].c));
  }
  size_t copied = 0;
  if (!chunk.empty()) {
    ErrorOr<size_t> r = dst.CopyOut(chunk.data(), chunk.size());
    copied = r.ok() ? *r : 0;
    if (copied == 0) return Err(EFAULT);
    // A short copy consumes only the characters that made it.
    if (copied < chunk.size()) entries = copied;
  }
  input_.erase(input_.begin(), input_.begin() + static_cast<std::ptrdiff_t>(entries));
  canon_count_ -= std::min(canon_count_, entries);
  return copied;
}

void LineDiscipline::FlushInput() {
  input_.clear();
  pending_.clear();
  canon_count_ = 0;
  lnext_ = false;
}

void LineDiscipline::Write(const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; i++) OutputChar(p[i]);
}

ErrorOr<size_t> LineDiscipline::ReadOutput(IOSequence& dst) {
  size_t n = std::min(dst.remaining(), output_.size());
  if (n == 0) return size_t{0};
  ErrorOr<size_t> r = dst.CopyOut(output_.data(), n);
  size_t copied = r.ok() ? *r : 0;
  if (copied == 0) return Err(EFAULT);
  output_.erase(0, copied);
  return copied;
}

}  // namespace sentry::tty
