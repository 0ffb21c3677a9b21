/// @file core.hpp
/// Everything of pgqpp_core: connection settings, errors, quoting, validation, typed info
/// rows and the admin API.
#pragma once

#include "pgqpp/admin.hpp"
#include "pgqpp/connection_config.hpp"
#include "pgqpp/error.hpp"
#include "pgqpp/quote.hpp"
#include "pgqpp/types.hpp"
#include "pgqpp/validate.hpp"
