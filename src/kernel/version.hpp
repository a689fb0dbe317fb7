#pragma once

inline constexpr const char* kKernelName = "MarkerOS";
inline constexpr const char* kKernelVersion = "0.1";
