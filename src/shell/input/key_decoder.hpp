// Turns the bytes a terminal sends into keys. Terminals disagree on the editing keys: xterm sends
// ESC [ H and ESC [ F for Home and End (ESC O H / ESC O F in application mode), the Linux
// console and screen/tmux send ESC [ 1 ~ and ESC [ 4 ~ (or 7 ~ / 8 ~), and Delete is ESC [ 3 ~.
// All of them decode to the same key here; sequences that mean nothing to a line editor
// (function keys, Page Up, ...) decode to `ignored` as a whole, so no stray letter is typed.
#pragma once

#include <cstdint>

namespace shell {

enum class Key : std::uint8_t {
    none,       // the byte is part of a sequence still coming
    ignored,    // a whole sequence or control byte with no meaning here
    character,  // a printable ASCII character: KeyDecoder::character()
    enter,
    backspace,
    delete_at_cursor,
    left,
    right,
    up,
    down,
    home,
    end,
    tab,
    interrupt,   // Ctrl-C
    clear_line,  // Ctrl-U
};

class KeyDecoder {
  public:
    Key feed(char byte);
    char character() const { return character_; }

  private:
    enum class State : std::uint8_t { ground, escape, csi, ss3 };

    Key finish_csi(char final_byte);

    State state_ = State::ground;
    std::uint32_t parameter_ = 0;  // the first numeric parameter of ESC [ n ~
    bool parameter_seen_ = false;
    bool last_was_carriage_return_ = false;
    char character_ = 0;
};

}  // namespace shell
