// A fixed-capacity vector: the kernel has no heap when it parses boot information, so containers
// live in static storage or on the stack and refuse, rather than overflow, when full.
#pragma once

#include <cstddef>

namespace lib {

template <typename T, std::size_t Capacity>
class StaticVector {
  public:
    constexpr std::size_t size() const { return size_; }
    static constexpr std::size_t capacity() { return Capacity; }
    constexpr bool empty() const { return size_ == 0; }
    constexpr bool full() const { return size_ == Capacity; }

    // Returns false (and stores nothing) when full, so callers can report the overflow.
    [[nodiscard]] constexpr bool push_back(const T& item) {
        if (size_ == Capacity) {
            return false;
        }
        items_[size_++] = item;
        return true;
    }

    constexpr void erase_at(std::size_t index) {
        for (std::size_t i = index; i + 1 < size_; ++i) {
            items_[i] = items_[i + 1];
        }
        --size_;
    }

    [[nodiscard]] constexpr bool insert_at(std::size_t index, const T& item) {
        if (size_ == Capacity) {
            return false;
        }
        for (std::size_t i = size_; i > index; --i) {
            items_[i] = items_[i - 1];
        }
        items_[index] = item;
        ++size_;
        return true;
    }

    constexpr void clear() { size_ = 0; }

    constexpr T& operator[](std::size_t i) { return items_[i]; }
    constexpr const T& operator[](std::size_t i) const { return items_[i]; }
    constexpr T* begin() { return items_; }
    constexpr T* end() { return items_ + size_; }
    constexpr const T* begin() const { return items_; }
    constexpr const T* end() const { return items_ + size_; }
    constexpr T* data() { return items_; }
    constexpr const T* data() const { return items_; }

  private:
    T items_[Capacity]{};
    std::size_t size_ = 0;
};

}  // namespace lib
