#include "kernel/symbols.hpp"

#include "lib/string.hpp"

namespace symbols {
namespace {

const char* table_text = nullptr;
std::size_t table_length = 0;

bool hex_digit(char c, std::uint64_t& value) {
    if (c >= '0' && c <= '9') {
        value = value * 16 + std::uint64_t(c - '0');
    } else if (c >= 'a' && c <= 'f') {
        value = value * 16 + std::uint64_t(c - 'a' + 10);
    } else {
        return false;
    }
    return true;
}

// One line: "ffffffff80101234 T name with spaces(args)\n". Returns false for lines that are not
// code symbols (data, absolute, malformed).
bool parse_line(const char* line, const char* end, std::uint64_t& address, lib::StringView& name) {
    address = 0;
    const char* p = line;
    while (p < end && hex_digit(*p, address)) {
        ++p;
    }
    if (p == line || p + 3 > end || p[0] != ' ' || p[2] != ' ') {
        return false;
    }
    char type = p[1];
    if (type != 'T' && type != 't' && type != 'W' && type != 'w') {
        return false;
    }
    name = {p + 3, std::size_t(end - (p + 3))};
    return true;
}

}  // namespace

void init(const char* table, std::size_t length) {
    table_text = table;
    table_length = length;
}

bool available() {
    return table_text != nullptr;
}

bool lookup(std::uint64_t address, Match& match) {
    if (table_text == nullptr) {
        return false;
    }
    bool found = false;
    std::uint64_t best = 0;
    const char* end = table_text + table_length;
    for (const char* line = table_text; line < end;) {
        const char* line_end = line;
        while (line_end < end && *line_end != '\n') {
            ++line_end;
        }
        std::uint64_t symbol_address;
        lib::StringView name;
        // The table is sorted by address, so the last code symbol not above `address` wins.
        if (parse_line(line, line_end, symbol_address, name)) {
            if (symbol_address > address) {
                break;
            }
            best = symbol_address;
            match.name = name;
            found = true;
        }
        line = line_end + 1;
    }
    if (found) {
        match.offset = address - best;
    }
    return found;
}

}  // namespace symbols
