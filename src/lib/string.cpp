#include "lib/string.hpp"

namespace lib {

bool parse_unsigned(const char* text, std::uint64_t& out) {
    unsigned base = 10;
    if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        base = 16;
        text += 2;
    }
    if (*text == '\0') {
        return false;
    }
    std::uint64_t value = 0;
    for (; *text != '\0'; ++text) {
        unsigned digit;
        char c = *text;
        if (c >= '0' && c <= '9') {
            digit = unsigned(c - '0');
        } else if (base == 16 && c >= 'a' && c <= 'f') {
            digit = unsigned(c - 'a' + 10);
        } else if (base == 16 && c >= 'A' && c <= 'F') {
            digit = unsigned(c - 'A' + 10);
        } else {
            break;
        }
        if (value > (~std::uint64_t{0} - digit) / base) {
            return false;
        }
        value = value * base + digit;
    }
    unsigned shift = 0;
    if (*text == 'K' || *text == 'k') {
        shift = 10;
    } else if (*text == 'M' || *text == 'm') {
        shift = 20;
    } else if (*text == 'G' || *text == 'g') {
        shift = 30;
    }
    if (shift != 0) {
        ++text;
        if (value > (~std::uint64_t{0} >> shift)) {
            return false;
        }
        value <<= shift;
    }
    if (*text != '\0') {
        return false;
    }
    out = value;
    return true;
}

}  // namespace lib
