// Line editing for a serial terminal (VT100 escape sequences): insert anywhere, backspace and
// delete, left/right, home/end, history with up/down, Tab to complete the first word from a list
// of names, Ctrl-C to drop a line, Ctrl-U to clear it. It is fed one byte at a time and never
// trusts the input: bytes it does not know are ignored, and a line longer than its capacity is
// refused with a message when Enter comes, so no input can overflow it or run half a command.
#pragma once

#include <cstddef>

#include "lib/format.hpp"
#include "shell/input/key_decoder.hpp"

namespace shell {

class LineEditor {
  public:
    static constexpr std::size_t kCapacity = 200;
    static constexpr std::size_t kHistory = 16;

    explicit LineEditor(lib::Sink& terminal) : terminal_(terminal) {}

    // The names Tab completes the first word from; the array must outlive the editor.
    void set_completions(const char* const* names, std::size_t count) {
        completions_ = names;
        completion_count_ = count;
    }

    void start(const char* prompt);
    // True when a whole line was entered; `line()` holds it until the next start().
    bool feed(char byte);
    const char* line() const { return line_; }

  private:
    void insert(char c);
    void erase_before_cursor();
    void erase_at_cursor();
    void recall(int direction);
    void redraw();
    void move_cursor_left(std::size_t count);
    void move_cursor_right(std::size_t count);
    void complete_word();
    void remember();
    bool finish_line();

    lib::Sink& terminal_;
    KeyDecoder keys_;
    const char* prompt_ = "";
    char line_[kCapacity + 1] = {};
    std::size_t length_ = 0;
    std::size_t cursor_ = 0;
    bool overflowed_ = false;  // characters were typed past the capacity and dropped
    char history_[kHistory][kCapacity + 1] = {};
    std::size_t history_count_ = 0;  // lines ever remembered; the newest is at (count - 1) % size
    std::size_t browsing_ = 0;       // how many steps back into history, 0 = the line being typed
    const char* const* completions_ = nullptr;
    std::size_t completion_count_ = 0;
};

}  // namespace shell
