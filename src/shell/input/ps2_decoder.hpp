// Turns PS/2 scancodes (set 1, what the keyboard controller delivers with translation on, the
// PC default) into the bytes a serial terminal would send for the same keys, so the shell's
// line editor serves the VGA screen and the serial console alike: letters and symbols with
// Shift and Caps Lock, Enter as CR, Backspace as DEL, arrows and Home/End as VT100 sequences,
// Ctrl-C/U/A/E as control bytes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace shell {

class Ps2Decoder {
  public:
    // Feeds one scancode byte; writes up to 3 bytes to `out` and returns how many.
    std::size_t feed(std::uint8_t scancode, char out[3]);

  private:
    bool extended_ = false;  // the previous byte was the 0xE0 prefix
    bool left_shift_ = false;
    bool right_shift_ = false;
    bool control_ = false;
    bool caps_lock_ = false;
};

}  // namespace shell
