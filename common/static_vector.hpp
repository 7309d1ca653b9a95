// A fixed-capacity vector for the evaluation hot path: no heap allocation, and only the elements
// in use are constructed or copied (a Prediction holds room for dozens of launches).
#pragma once

#include <cstddef>
#include <new>
#include <stdexcept>
#include <type_traits>

namespace common {

template <typename T, std::size_t Capacity>
class StaticVector {
  static_assert(std::is_trivially_destructible_v<T>, "elements are never destroyed");

 public:
  StaticVector() = default;
  StaticVector(const StaticVector& other) { copy_from(other); }
  StaticVector& operator=(const StaticVector& other) {
    if (this != &other) copy_from(other);
    return *this;
  }

  void push_back(const T& value) {
    if (size_ == Capacity) throw std::length_error("StaticVector capacity exceeded");
    new (slot(size_)) T(value);
    ++size_;
  }
  std::size_t size() const { return size_; }
  static constexpr std::size_t capacity() { return Capacity; }
  bool empty() const { return size_ == 0; }
  const T& operator[](std::size_t i) const { return *data_at(i); }
  T& operator[](std::size_t i) { return *data_at(i); }
  const T* begin() const { return data_at(0); }
  const T* end() const { return data_at(size_); }
  T* begin() { return data_at(0); }
  T* end() { return data_at(size_); }

 private:
  void copy_from(const StaticVector& other) {
    size_ = 0;
    for (const T& item : other) push_back(item);
  }
  void* slot(std::size_t i) { return storage_ + i * sizeof(T); }
  T* data_at(std::size_t i) { return std::launder(reinterpret_cast<T*>(storage_ + i * sizeof(T))); }
  const T* data_at(std::size_t i) const {
    return std::launder(reinterpret_cast<const T*>(storage_ + i * sizeof(T)));
  }

  alignas(T) unsigned char storage_[sizeof(T) * Capacity];
  std::size_t size_ = 0;
};

}  // namespace common
