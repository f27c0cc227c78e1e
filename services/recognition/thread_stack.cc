// A floor under the stack size that libraries request for their threads.
//
// Why: glibc carves a thread's static TLS out of the stack size the creator asked for, and
// OpenBLAS (which libblas.so.3 resolves to on these machines, pulled in by FAISS) has ~60 KB of
// static TLS. civetweb starts its workers with a small fixed stack, so in this process their
// usable stack shrinks to a few KB and the second HTTP connection crashes inside getnameinfo().
// Defining pthread_attr_setstacksize in the executable interposes it for civetweb (and any other
// library); it forwards to libc with at least 1 MiB. Linked into stratus-recognition only.
#include <dlfcn.h>
#include <pthread.h>

#include <cstddef>

extern "C" int pthread_attr_setstacksize(pthread_attr_t* attr, size_t size) {
  using Fn = int (*)(pthread_attr_t*, size_t);
  static Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "pthread_attr_setstacksize"));
  constexpr size_t kMinimum = size_t{1} << 20;
  return real(attr, size < kMinimum ? kMinimum : size);
}
