// The training job parser (training/job.h) on arbitrary YAML, with and without --set overrides.
// Checks: no crash or undefined behaviour.
#include <fuzzer/FuzzedDataProvider.h>

#include <string>
#include <vector>

#include "training/job.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider p(data, size);
  std::vector<std::string> overrides;
  if (p.ConsumeBool()) overrides.push_back(p.ConsumeRandomLengthString(64));
  (void)stratus::training::ParseJob(p.ConsumeRemainingBytesAsString(), "fuzz.yaml", overrides);
  return 0;
}
