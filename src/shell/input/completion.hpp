// Tab completion of a word against a list of names (the shell's command names): how far every
// name that starts with the prefix agrees, so one Tab can extend the word that far.
#pragma once

#include <cstddef>

namespace shell {

struct Completion {
    std::size_t matches = 0;
    const char* first = nullptr;  // the first matching name, or nullptr
    // How many characters after the prefix every match shares (the whole rest when one match).
    std::size_t common_extension = 0;
};

Completion complete(const char* prefix, std::size_t prefix_length, const char* const* names,
                    std::size_t count);

}  // namespace shell
