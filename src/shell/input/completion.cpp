#include "shell/input/completion.hpp"

#include "lib/string.hpp"

namespace shell {
namespace {

bool has_prefix(const char* name, const char* prefix, std::size_t length) {
    for (std::size_t i = 0; i < length; ++i) {
        if (name[i] != prefix[i]) {
            return false;  // also ends at the name's terminator, which no prefix byte equals
        }
    }
    return true;
}

}  // namespace

Completion complete(const char* prefix, std::size_t prefix_length, const char* const* names,
                    std::size_t count) {
    Completion result;
    for (std::size_t i = 0; i < count; ++i) {
        const char* name = names[i];
        if (!has_prefix(name, prefix, prefix_length)) {
            continue;
        }
        const char* rest = name + prefix_length;
        if (result.matches++ == 0) {
            result.first = name;
            result.common_extension = lib::string_length(rest);
            continue;
        }
        const char* first_rest = result.first + prefix_length;
        std::size_t shared = 0;
        while (shared < result.common_extension && rest[shared] == first_rest[shared]) {
            ++shared;
        }
        result.common_extension = shared;
    }
    return result;
}

}  // namespace shell
