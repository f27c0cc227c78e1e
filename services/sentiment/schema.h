// The sentiment service's tables in PostgreSQL, as versioned migrations applied at start-up.
// Append new versions; never edit one that has shipped.
#ifndef STRATUS_SERVICES_SENTIMENT_SCHEMA_H_
#define STRATUS_SERVICES_SENTIMENT_SCHEMA_H_

#include <vector>

#include "common/db.h"

namespace stratus::sentiment {

const std::vector<Migration>& Migrations();

}  // namespace stratus::sentiment

#endif  // STRATUS_SERVICES_SENTIMENT_SCHEMA_H_
