// What every cache of one heap shares: the frame source, the map from frames to slabs, and the
// pool magazines come from.
#pragma once

#include "heap/frame_source.hpp"
#include "heap/heap_platform.hpp"
#include "heap/magazine.hpp"
#include "heap/slab_map.hpp"

namespace heap {

template <HeapPlatform P>
struct HeapCore {
    FrameSource* frames = nullptr;
    SlabMap map;
    MagazinePool<P> pool;
};

}  // namespace heap
