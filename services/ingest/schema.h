// The ingest service's tables in PostgreSQL, as versioned migrations applied at start-up.
// Append new versions; never edit one that has shipped.
#ifndef STRATUS_SERVICES_INGEST_SCHEMA_H_
#define STRATUS_SERVICES_INGEST_SCHEMA_H_

#include <vector>

#include "common/db.h"

namespace stratus::ingest {

const std::vector<Migration>& Migrations();

}  // namespace stratus::ingest

#endif  // STRATUS_SERVICES_INGEST_SCHEMA_H_
