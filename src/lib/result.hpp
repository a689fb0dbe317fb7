// Errors are values: a Result holds either a value or an error code, never a sentinel address.
#pragma once

#include <type_traits>

namespace lib {

template <typename E>
struct Failure {
    E error;
};

// Deduction helper so `return lib::fail(Error::x);` reads naturally.
template <typename E>
constexpr Failure<E> fail(E error) {
    return {error};
}

template <typename T, typename E>
class [[nodiscard]] Result {
    static_assert(std::is_trivially_destructible_v<T>, "kernel results carry plain values");

  public:
    constexpr Result(T value) : ok_(true), value_(value) {}
    constexpr Result(Failure<E> failure) : ok_(false), error_(failure.error) {}

    constexpr bool ok() const { return ok_; }
    constexpr explicit operator bool() const { return ok_; }
    constexpr T value() const { return value_; }
    constexpr E error() const { return error_; }
    constexpr T value_or(T fallback) const { return ok_ ? value_ : fallback; }

  private:
    bool ok_;
    union {
        T value_;
        E error_;
    };
};

// A Result with nothing to return on success.
template <typename E>
class [[nodiscard]] Status {
  public:
    constexpr Status() : ok_(true), error_() {}
    constexpr Status(Failure<E> failure) : ok_(false), error_(failure.error) {}

    static constexpr Status success() { return Status(); }
    constexpr bool ok() const { return ok_; }
    constexpr explicit operator bool() const { return ok_; }
    constexpr E error() const { return error_; }

  private:
    bool ok_;
    E error_;
};

}  // namespace lib
