// A value that is almost always T{}: kept on the heap once edited, the size
// of a pointer until then. Reads of an unedited one see a shared T{}. For
// fields of structs held by the hundred thousand that few of them use (an
// item's remote command details). Equality compares values: an unedited
// Sparse equals one edited back to T{}.
// Value semantics: copies copy the value. Not thread-safe.
#pragma once

#include <memory>
#include <utility>

namespace haul {

template <typename T>
class Sparse {
 public:
  Sparse() = default;
  Sparse(const Sparse& other) : value_(other.value_ ? std::make_unique<T>(*other) : nullptr) {}
  Sparse(Sparse&&) noexcept = default;
  Sparse& operator=(const Sparse& other) {
    if (this != &other) value_ = other.value_ ? std::make_unique<T>(*other) : nullptr;
    return *this;
  }
  Sparse& operator=(Sparse&&) noexcept = default;
  // Setting T{} frees the value.
  Sparse& operator=(T value) {
    if (value == unset_value) {
      value_.reset();
    } else {
      value_ = std::make_unique<T>(std::move(value));
    }
    return *this;
  }
  ~Sparse() = default;

  const T& operator*() const { return value_ ? *value_ : unset_value; }
  const T* operator->() const { return &**this; }
  // The value to change; the first call moves it to the heap.
  T& edit() {
    if (!value_) value_ = std::make_unique<T>();
    return *value_;
  }
  // Whether it was ever edited (and so holds memory).
  bool allocated() const { return value_ != nullptr; }

  friend bool operator==(const Sparse& a, const Sparse& b) { return *a == *b; }

 private:
  static inline const T unset_value{};
  std::unique_ptr<T> value_;
};

}  // namespace haul
