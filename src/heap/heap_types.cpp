#include "heap/heap_types.hpp"

namespace heap {

const char* to_string(FreeError error) {
    switch (error) {
        case FreeError::not_heap:
            return "not a heap pointer";
        case FreeError::not_object_start:
            return "not the start of an object";
        case FreeError::not_allocated:
            return "object is not allocated";
        case FreeError::double_free:
            return "object freed twice";
        case FreeError::wrong_cache:
            return "object belongs to another cache";
    }
    return "unknown error";
}

}  // namespace heap
