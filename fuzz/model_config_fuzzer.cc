// A model's config.yaml (runtime/model_config.h) on arbitrary YAML. Checks: no crash or
// undefined behaviour; a config that parses is named after its folder.
#include <cstdlib>
#include <string>

#include "runtime/model_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto config = stratus::runtime::ParseModelConfig(text, "model");
  if (config.ok() && config->name != "model") abort();
  return 0;
}
