// Thread stacks big enough for LibTorch's static TLS.
//
// Every library loaded at start-up keeps its thread-local storage in each thread's stack. With
// LibTorch linked, that static TLS is ~110 KB (OpenBLAS 60 KB, glog 30 KB, libtorch_cpu 10 KB),
// and a library that starts its threads with a small compiled-in stack (Debian's civetweb, the
// HTTP server before common/http_server, used 100 KB) then fails in pthread_create with EINVAL.
// common/http_server asks for 1 MiB itself; this floor stays for every other library's threads.
// This definition, linked into the
// executable, interposes pthread_attr_setstacksize for the whole process and raises requests
// below 1 MiB to 1 MiB (virtual memory; pages are touched only as used), then calls glibc's.
//
// It has to be in the executable itself: an object in a static library would not be pulled in,
// since only shared libraries reference the symbol. cmake/stratus.cmake links this object
// (target stratus_thread_stack) into every binary and test, so no service can forget it.
#include <dlfcn.h>
#include <pthread.h>

#include <cstddef>

extern "C" int pthread_attr_setstacksize(pthread_attr_t* attr, size_t stacksize) {
  using Fn = int (*)(pthread_attr_t*, size_t);
  static const Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "pthread_attr_setstacksize"));
  constexpr size_t kMinimum = size_t{1} << 20;
  if (stacksize < kMinimum) stacksize = kMinimum;
  return real(attr, stacksize);
}
