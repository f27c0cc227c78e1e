// A floor under the stack size that libraries request for their threads (the same fix as
// services/recognition/thread_stack.cc; it belongs in common/, see the note to the lead).
//
// Why: glibc carves a thread's static TLS out of the stack size the creator asked for.
// civetweb starts its workers with a fixed 100 KiB stack, and this process's static TLS
// (LibTorch and its OpenMP/oneDNN runtime, gRPC, libpq, OpenBLAS) is large enough that
// pthread_create() refuses that size: mg_start() fails and the service cannot listen for HTTP.
// Defining pthread_attr_setstacksize in the executable interposes it for civetweb (and any
// other library); it forwards to libc with at least 1 MiB. Linked into stratus-sentiment only.
#include <dlfcn.h>
#include <pthread.h>

#include <cstddef>

extern "C" int pthread_attr_setstacksize(pthread_attr_t* attr, size_t size) {
  using Fn = int (*)(pthread_attr_t*, size_t);
  static Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "pthread_attr_setstacksize"));
  constexpr size_t kMinimum = size_t{1} << 20;
  return real(attr, size < kMinimum ? kMinimum : size);
}
