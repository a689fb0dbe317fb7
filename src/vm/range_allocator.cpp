#include "vm/range_allocator.hpp"

namespace vm {

const char* to_string(RangeKind kind) {
    switch (kind) {
        case RangeKind::vmalloc:
            return "vmalloc";
        case RangeKind::vmap:
            return "vmap";
        case RangeKind::stack:
            return "stack";
    }
    return "?";
}

const char* to_string(RangeError error) {
    switch (error) {
        case RangeError::invalid_request:
            return "invalid request (size must be a non-zero number of pages)";
        case RangeError::no_space:
            return "no room left in the vmalloc area";
        case RangeError::table_full:
            return "too many live mappings";
        case RangeError::not_found:
            return "no mapping starts at that address";
    }
    return "?";
}

void RangeAllocator::init(VirtAddr begin, VirtAddr end, std::uint64_t guard) {
    begin_ = begin;
    end_ = end;
    guard_ = guard;
    marker_ = begin;
    rescans_ = 0;
    count_ = 0;
    freed_next_ = 0;
    for (FreedRecord& freed : freed_) {
        freed = {};
    }
}

VirtAddr RangeAllocator::gap_begin(std::size_t index) const {
    return index == 0 ? begin_ : ranges_[index - 1].end;
}

VirtAddr RangeAllocator::gap_end(std::size_t index) const {
    return index == count_ ? end_ : ranges_[index].begin;
}

VirtAddr RangeAllocator::fit(VirtAddr gap_begin, VirtAddr gap_end, VirtAddr from,
                             std::uint64_t bytes, std::uint64_t alignment) const {
    VirtAddr lowest = gap_begin + guard_;
    if (from < lowest) {
        from = lowest;
    }
    VirtAddr candidate = mm::align_up(from, alignment);
    if (candidate < from || candidate >= gap_end) {
        return 0;
    }
    // gap_end - candidate cannot underflow: candidate < gap_end.
    if (gap_end - candidate < guard_ || gap_end - candidate - guard_ < bytes) {
        return 0;
    }
    return candidate;
}

lib::Result<VirtAddr, RangeError> RangeAllocator::allocate(std::uint64_t bytes,
                                                           std::uint64_t alignment, RangeKind kind,
                                                           std::uint32_t cpu) {
    bool power_of_two = alignment != 0 && (alignment & (alignment - 1)) == 0;
    if (bytes == 0 || bytes % kPageSize != 0 || !power_of_two || alignment < kPageSize) {
        return lib::fail(RangeError::invalid_request);
    }
    if (count_ == kCapacity) {
        return lib::fail(RangeError::table_full);
    }
    // At the marker: the gap that holds it.
    std::size_t index = 0;
    while (index < count_ && ranges_[index].begin < marker_) {
        ++index;
    }
    VirtAddr address = fit(gap_begin(index), gap_end(index), marker_, bytes, alignment);
    if (address == 0) {
        // The marker's gap cannot serve: first fit from the start of the region.
        ++rescans_;
        for (index = 0; index <= count_; ++index) {
            address = fit(gap_begin(index), gap_end(index), 0, bytes, alignment);
            if (address != 0) {
                break;
            }
        }
        if (address == 0) {
            return lib::fail(RangeError::no_space);
        }
    }
    insert(index, {address, address + bytes, kind, false, cpu});
    marker_ = address + bytes;
    return address;
}

void RangeAllocator::insert(std::size_t index, const RangeRecord& record) {
    for (std::size_t i = count_; i > index; --i) {
        ranges_[i] = ranges_[i - 1];
    }
    ranges_[index] = record;
    ++count_;
}

lib::Result<RangeRecord, RangeError> RangeAllocator::release(VirtAddr begin,
                                                             std::uint32_t freeing_cpu) {
    for (std::size_t i = 0; i < count_; ++i) {
        if (ranges_[i].begin == begin) {
            RangeRecord record = ranges_[i];
            for (std::size_t j = i; j + 1 < count_; ++j) {
                ranges_[j] = ranges_[j + 1];
            }
            --count_;
            freed_[freed_next_] = {record.begin, record.end, freeing_cpu};
            freed_next_ = (freed_next_ + 1) % kFreedHistory;
            return record;
        }
    }
    return lib::fail(RangeError::not_found);
}

const RangeRecord* RangeAllocator::find(VirtAddr begin) const {
    for (std::size_t i = 0; i < count_; ++i) {
        if (ranges_[i].begin == begin) {
            return &ranges_[i];
        }
    }
    return nullptr;
}

bool RangeAllocator::set_freeing(VirtAddr begin) {
    for (std::size_t i = 0; i < count_; ++i) {
        if (ranges_[i].begin == begin) {
            ranges_[i].freeing = true;
            return true;
        }
    }
    return false;
}

Place RangeAllocator::locate(VirtAddr address) const {
    Place place;
    if (address < begin_ || address >= end_) {
        return place;
    }
    std::size_t index = 0;  // the first range that ends after the address
    while (index < count_ && ranges_[index].end <= address) {
        ++index;
    }
    if (index < count_ && ranges_[index].begin <= address) {
        place.kind = Place::Kind::inside;
        place.range = ranges_[index];
        return place;
    }
    // Recently freed ranges first: a stale pointer is the likelier story than a guard hit.
    for (std::size_t back = 1; back <= kFreedHistory; ++back) {
        const FreedRecord& freed = freed_[(freed_next_ + kFreedHistory - back) % kFreedHistory];
        if (freed.end != 0 && address >= freed.begin && address < freed.end) {
            place.kind = Place::Kind::freed;
            place.freed = freed;
            return place;
        }
    }
    if (index > 0 && address - ranges_[index - 1].end < guard_) {
        place.kind = Place::Kind::guard_after;
        place.range = ranges_[index - 1];
    } else if (index < count_ && ranges_[index].begin - address <= guard_) {
        place.kind = Place::Kind::guard_below;
        place.range = ranges_[index];
    } else {
        place.kind = Place::Kind::unused;
    }
    return place;
}

bool RangeAllocator::check_invariants() const {
    for (std::size_t i = 0; i < count_; ++i) {
        const RangeRecord& r = ranges_[i];
        if (r.begin >= r.end || r.begin % kPageSize != 0 || r.end % kPageSize != 0) {
            return false;
        }
        // gap_begin(i) is the previous range's end, so this also catches overlaps.
        if (r.begin < gap_begin(i) + guard_ || r.end + guard_ > gap_end(i + 1)) {
            return false;
        }
    }
    return marker_ >= begin_ && marker_ <= end_;
}

}  // namespace vm
