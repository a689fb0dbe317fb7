// Line editing for a serial terminal (VT100 escape sequences): insert anywhere, backspace,
// left/right, home/end, history with up/down, Ctrl-C to drop a line, Ctrl-U to clear it.
// It is fed one byte at a time and never trusts the input: control characters it does not know
// and bytes past the line's capacity are ignored, so no input can overflow it.
#pragma once

#include <cstddef>

#include "lib/format.hpp"

namespace shell {

class LineEditor {
  public:
    static constexpr std::size_t kCapacity = 200;
    static constexpr std::size_t kHistory = 16;

    explicit LineEditor(lib::Sink& terminal) : terminal_(terminal) {}

    void start(const char* prompt);
    // True when a whole line was entered; `line()` holds it until the next start().
    bool feed(char byte);
    const char* line() const { return line_; }

  private:
    enum class Escape { none, escape, bracket };

    void insert(char c);
    void erase_before_cursor();
    void recall(int direction);
    void redraw();
    void move_cursor_left(std::size_t count);
    void move_cursor_right(std::size_t count);
    void remember();

    lib::Sink& terminal_;
    const char* prompt_ = "";
    char line_[kCapacity + 1] = {};
    std::size_t length_ = 0;
    std::size_t cursor_ = 0;
    Escape escape_ = Escape::none;
    bool last_was_carriage_return_ = false;
    char history_[kHistory][kCapacity + 1] = {};
    std::size_t history_count_ = 0;  // lines ever remembered; the newest is at (count - 1) % size
    std::size_t browsing_ = 0;       // how many steps back into history, 0 = the line being typed
};

}  // namespace shell
