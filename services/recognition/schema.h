// The recognition service's tables in PostgreSQL, as versioned migrations applied at start-up.
// Append new versions; never edit one that has shipped.
#ifndef STRATUS_SERVICES_RECOGNITION_SCHEMA_H_
#define STRATUS_SERVICES_RECOGNITION_SCHEMA_H_

#include <vector>

#include "common/db.h"

namespace stratus::recognition {

const std::vector<Migration>& Migrations();

}  // namespace stratus::recognition

#endif  // STRATUS_SERVICES_RECOGNITION_SCHEMA_H_
