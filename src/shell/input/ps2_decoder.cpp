#include "shell/input/ps2_decoder.hpp"

namespace shell {
namespace {

// Scancode set 1, make codes 0x00-0x39: the US layout without and with Shift. 0: no character.
constexpr char kPlain[0x3A] = {0,   0x1B, '1',  '2',  '3',  '4', '5', '6',  '7', '8', '9', '0',
                               '-', '=',  0x7F, '\t', 'q',  'w', 'e', 'r',  't', 'y', 'u', 'i',
                               'o', 'p',  '[',  ']',  '\r', 0,   'a', 's',  'd', 'f', 'g', 'h',
                               'j', 'k',  'l',  ';',  '\'', '`', 0,   '\\', 'z', 'x', 'c', 'v',
                               'b', 'n',  'm',  ',',  '.',  '/', 0,   '*',  0,   ' '};
constexpr char kShifted[0x3A] = {0,   0x1B, '!',  '@',  '#',  '$', '%', '^', '&', '*', '(', ')',
                                 '_', '+',  0x7F, '\t', 'Q',  'W', 'E', 'R', 'T', 'Y', 'U', 'I',
                                 'O', 'P',  '{',  '}',  '\r', 0,   'A', 'S', 'D', 'F', 'G', 'H',
                                 'J', 'K',  'L',  ':',  '"',  '~', 0,   '|', 'Z', 'X', 'C', 'V',
                                 'B', 'N',  'M',  '<',  '>',  '?', 0,   '*', 0,   ' '};

constexpr std::uint8_t kLeftShift = 0x2A;
constexpr std::uint8_t kRightShift = 0x36;
constexpr std::uint8_t kControl = 0x1D;  // left, and right after 0xE0
constexpr std::uint8_t kCapsLock = 0x3A;
constexpr std::uint8_t kReleased = 0x80;

std::size_t escape(char final_letter, char out[3]) {
    out[0] = 0x1B;
    out[1] = '[';
    out[2] = final_letter;
    return 3;
}

}  // namespace

std::size_t Ps2Decoder::feed(std::uint8_t scancode, char out[3]) {
    if (scancode == 0xE0) {
        extended_ = true;
        return 0;
    }
    bool extended = extended_;
    extended_ = false;
    bool released = (scancode & kReleased) != 0;
    std::uint8_t key = scancode & ~kReleased;

    if (key == kControl) {
        control_ = !released;
        return 0;
    }
    if (!extended && key == kLeftShift) {
        left_shift_ = !released;
        return 0;
    }
    if (!extended && key == kRightShift) {
        right_shift_ = !released;
        return 0;
    }
    if (released) {
        return 0;
    }
    if (!extended && key == kCapsLock) {
        caps_lock_ = !caps_lock_;
        return 0;
    }
    if (extended) {
        switch (key) {
            case 0x48:
                return escape('A', out);  // up
            case 0x50:
                return escape('B', out);  // down
            case 0x4D:
                return escape('C', out);  // right
            case 0x4B:
                return escape('D', out);  // left
            case 0x47:
                return escape('H', out);  // home
            case 0x4F:
                return escape('F', out);  // end
            case 0x1C:
                out[0] = '\r';  // keypad Enter
                return 1;
            default:
                return 0;
        }
    }
    if (key >= sizeof(kPlain)) {
        return 0;  // function keys, keypad, and anything unknown
    }
    char c = (left_shift_ || right_shift_) ? kShifted[key] : kPlain[key];
    if (c == 0) {
        return 0;
    }
    if (caps_lock_ && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
        c = char(c ^ 0x20);  // Caps Lock inverts the case Shift chose
    }
    if (control_ && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
        c = char((c & 0x1F));
    }
    out[0] = c;
    return 1;
}

}  // namespace shell
