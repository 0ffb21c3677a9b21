# Finds the system packages pgqpp builds against (Debian 12). Downloads are not possible
# here, so a missing package is a hard error that says how to install it.

function(pgqpp_missing_dependency what debian_package)
    message(FATAL_ERROR
        "pgqpp: ${what} not found (Debian package: ${debian_package}).\n"
        "Run: bash scripts/install-deps.sh")
endfunction()

find_package(PkgConfig QUIET)
if(NOT PkgConfig_FOUND)
    pgqpp_missing_dependency("pkg-config" "pkg-config")
endif()

# Debian's libpqxx 6.4 ships only a pkg-config file, no CMake package config.
pkg_check_modules(PQXX QUIET IMPORTED_TARGET libpqxx>=6.4)
if(NOT PQXX_FOUND)
    pgqpp_missing_dependency("libpqxx >= 6.4" "libpqxx-dev")
endif()

# libpq itself (connection-string validation); libpqxx.pc does not list it.
pkg_check_modules(PQ QUIET IMPORTED_TARGET libpq)
if(NOT PQ_FOUND)
    pgqpp_missing_dependency("libpq" "libpq-dev")
endif()

find_package(Boost 1.74 QUIET COMPONENTS program_options)
if(NOT Boost_FOUND)
    pgqpp_missing_dependency("Boost.Program_options >= 1.74"
        "libboost-dev libboost-program-options-dev")
endif()

find_package(spdlog QUIET CONFIG)
if(NOT spdlog_FOUND)
    pgqpp_missing_dependency("spdlog" "libspdlog-dev")
endif()

find_package(nlohmann_json 3 QUIET CONFIG)
if(NOT nlohmann_json_FOUND)
    pgqpp_missing_dependency("nlohmann_json" "nlohmann-json3-dev")
endif()

set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)

if(PGQPP_BUILD_TESTS)
    find_package(GTest QUIET CONFIG)
    if(NOT GTest_FOUND)
        pgqpp_missing_dependency("GoogleTest" "libgtest-dev")
    endif()
endif()
