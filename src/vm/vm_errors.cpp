#include "vm/vmalloc.hpp"

namespace vm {

const char* to_string(VmError error) {
    switch (error) {
        case VmError::invalid_request:
            return "invalid request (size must be 1 byte to 64 GiB)";
        case VmError::no_space:
            return "no room left in the vmalloc area";
        case VmError::out_of_memory:
            return "out of memory (everything taken was given back)";
        case VmError::not_found:
            return "no mapping starts at that address";
        case VmError::busy:
            return "that mapping is being freed by another CPU";
    }
    return "?";
}

}  // namespace vm
