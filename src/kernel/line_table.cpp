#include "kernel/line_table.hpp"

namespace line_table {
namespace {

const char* table_text = nullptr;
std::size_t table_length = 0;

bool parse_address(const char* p, const char* end, std::uint64_t& address, const char*& after) {
    address = 0;
    const char* start = p;
    for (; p < end; ++p) {
        char c = *p;
        if (c >= '0' && c <= '9') {
            address = address * 16 + std::uint64_t(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            address = address * 16 + std::uint64_t(c - 'a' + 10);
        } else {
            break;
        }
    }
    after = p;
    return p != start && p < end && *p == ' ';
}

}  // namespace

void init(const char* table, std::size_t length) {
    table_text = table;
    table_length = length;
}

bool available() {
    return table_text != nullptr;
}

bool lookup(std::uint64_t address, lib::StringView& entry) {
    if (table_text == nullptr) {
        return false;
    }
    bool found = false;
    const char* end = table_text + table_length;
    // Sorted by address: the last line at or below `address` answers. A linear scan is fast
    // enough for the few frames of one panic report.
    for (const char* line = table_text; line < end;) {
        const char* line_end = line;
        while (line_end < end && *line_end != '\n') {
            ++line_end;
        }
        std::uint64_t line_address;
        const char* after;
        if (parse_address(line, line_end, line_address, after)) {
            if (line_address > address) {
                break;
            }
            entry = {after + 1, std::size_t(line_end - (after + 1))};
            found = true;
        }
        line = line_end + 1;
    }
    return found && !(entry.length == 2 && entry.text[0] == '?' && entry.text[1] == '?');
}

bool next_part(lib::StringView& rest, lib::StringView& part) {
    if (rest.length == 0) {
        return false;
    }
    std::size_t n = 0;
    while (n < rest.length && rest.text[n] != '|') {
        ++n;
    }
    part = {rest.text, n};
    std::size_t skip = n < rest.length ? n + 1 : n;
    rest = {rest.text + skip, rest.length - skip};
    return true;
}

}  // namespace line_table
