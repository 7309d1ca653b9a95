// A fixed-capacity vector for the evaluation hot path (no heap allocation per query).
#pragma once

#include <array>
#include <cstddef>
#include <stdexcept>

namespace models {

template <typename T, std::size_t Capacity>
class StaticVector {
 public:
  void push_back(const T& value) {
    if (size_ == Capacity) throw std::length_error("StaticVector capacity exceeded");
    items_[size_++] = value;
  }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const T& operator[](std::size_t i) const { return items_[i]; }
  T& operator[](std::size_t i) { return items_[i]; }
  const T* begin() const { return items_.data(); }
  const T* end() const { return items_.data() + size_; }
  T* begin() { return items_.data(); }
  T* end() { return items_.data() + size_; }

 private:
  std::array<T, Capacity> items_{};
  std::size_t size_ = 0;
};

}  // namespace models
