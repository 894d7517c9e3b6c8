// Boxed<T>: a value kept on the heap only once it is set, copied as a value.
//
// For fields most objects leave at their default: an unset Boxed costs one
// pointer where the T inline would cost sizeof(T). Reads of an unset box see
// a default T, so readers need not check first.

#ifndef SESSIOND_SERVICE_COMMON_BOXED_H_
#define SESSIOND_SERVICE_COMMON_BOXED_H_

#include <memory>

namespace sessiond {

template <typename T>
class Boxed {
 public:
  Boxed() = default;
  Boxed(const Boxed& other) : value_(CopyOf(other)) {}
  Boxed(Boxed&&) noexcept = default;
  Boxed& operator=(const Boxed& other) {
    if (this != &other) value_ = CopyOf(other);
    return *this;
  }
  Boxed& operator=(Boxed&&) noexcept = default;

  const T& operator*() const { return value_ ? *value_ : Default(); }
  const T* operator->() const { return &**this; }

  // Mutable sets the box to a default T first if it is unset, so call it only
  // to store something: a loader that calls it for every row pays the heap
  // block this type exists to save.
  T& Mutable() {
    if (!value_) value_ = std::make_unique<T>();
    return *value_;
  }

  bool has_value() const { return value_ != nullptr; }
  void reset() { value_.reset(); }

 private:
  static std::unique_ptr<T> CopyOf(const Boxed& other) {
    return other.value_ ? std::make_unique<T>(*other.value_) : nullptr;
  }
  static const T& Default() {
    static const T* const kDefault = new T();
    return *kDefault;
  }

  std::unique_ptr<T> value_;
};

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_COMMON_BOXED_H_
