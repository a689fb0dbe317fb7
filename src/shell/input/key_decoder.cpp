#include "shell/input/key_decoder.hpp"

namespace shell {

Key KeyDecoder::finish_csi(char final_byte) {
    state_ = State::ground;
    switch (final_byte) {
        case 'A':
            return Key::up;
        case 'B':
            return Key::down;
        case 'C':
            return Key::right;
        case 'D':
            return Key::left;
        case 'H':
            return Key::home;
        case 'F':
            return Key::end;
        case '~':
            switch (parameter_) {
                case 1:
                case 7:
                    return Key::home;
                case 4:
                case 8:
                    return Key::end;
                case 3:
                    return Key::delete_at_cursor;
                default:
                    return Key::ignored;
            }
        default:
            return Key::ignored;
    }
}

Key KeyDecoder::feed(char byte) {
    auto c = static_cast<unsigned char>(byte);
    // A terminal may end a line with CR LF: the LF after a CR is the same line ending.
    bool after_carriage_return = last_was_carriage_return_;
    last_was_carriage_return_ = c == '\r';
    switch (state_) {
        case State::escape:
            if (c == '[') {
                state_ = State::csi;
                parameter_ = 0;
                parameter_seen_ = false;
                return Key::none;
            }
            state_ = c == 'O' ? State::ss3 : State::ground;
            return c == 'O' ? Key::none : Key::ignored;
        case State::ss3:
            // ESC O x: the keypad's application mode; only Home and End mean anything here.
            state_ = State::ground;
            return c == 'H' ? Key::home : c == 'F' ? Key::end : Key::ignored;
        case State::csi:
            if (c >= '0' && c <= '9') {
                // Only the first parameter matters; later ones (modifiers) are skipped.
                if (!parameter_seen_ && parameter_ < 1000) {
                    parameter_ = parameter_ * 10 + (c - '0');
                }
                return Key::none;
            }
            if (c == ';') {
                parameter_seen_ = true;
                return Key::none;
            }
            if (c >= 0x40 && c <= 0x7E) {
                return finish_csi(char(c));
            }
            // Anything else breaks the sequence off: a terminal does not send it inside one.
            state_ = State::ground;
            return Key::ignored;
        case State::ground:
            break;
    }
    switch (c) {
        case '\n':
            return after_carriage_return ? Key::none : Key::enter;
        case '\r':
            return Key::enter;
        case 0x7F:  // DEL, what most terminals send for backspace
        case '\b':
            return Key::backspace;
        case 0x1B:
            state_ = State::escape;
            return Key::none;
        case 0x01:  // Ctrl-A
            return Key::home;
        case 0x05:  // Ctrl-E
            return Key::end;
        case 0x03:
            return Key::interrupt;
        case 0x15:
            return Key::clear_line;
        case '\t':
            return Key::tab;
        default:
            if (c >= 0x20 && c < 0x7F) {
                character_ = char(c);
                return Key::character;
            }
            return Key::ignored;  // other control bytes and non-ASCII bytes
    }
}

}  // namespace shell
