# CMake functions that register pgqpp tests with ctest. Every test that touches PostgreSQL
# requires the `pg_cluster` fixture (tests/CMakeLists.txt): one throwaway cluster per ctest
# run, from which each test makes its own database out of a template.
#
#   pgqpp_add_sql_tests(<dir> TARGETS ours|pgq|ours_light...)
#   pgqpp_add_gtest(<name> SOURCES <src>... [LIBRARIES <lib>...] [NO_DB] [LIGHT])
#   pgqpp_add_script_test(<name> COMMAND <cmd> [<arg>...] [WORKING_DIRECTORY <dir>] [TIMEOUT <s>])

include(GoogleTest)

set(PGQPP_TEST_CLUSTER_DIR "${CMAKE_BINARY_DIR}/pgtest")
set(PGQPP_TEST_TIMEOUT 300 CACHE STRING "Default timeout (seconds) of a database test")
# Debian's python3 has python3-pgq and psycopg2; a python3 found first in PATH (pyenv, a
# venv) may not. Python tests should run ${PGQPP_PYTHON} (also exported to every DB test).
find_program(PGQPP_PYTHON python3 PATHS /usr/bin NO_DEFAULT_PATH
    DOC "python3 that has the Debian packages python3-pgq and python3-psycopg2")
if(NOT PGQPP_PYTHON)
    message(FATAL_ERROR "pgqpp: /usr/bin/python3 not found. Run: bash scripts/install-deps.sh")
endif()
set(PGQPP_TEST_ENVIRONMENT
    "PGQPP_TEST_CLUSTER=${PGQPP_TEST_CLUSTER_DIR}"
    "PGQPP_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
    "PGQPP_BUILD_DIR=${CMAKE_BINARY_DIR}"
    "PGQPP_PYTHON=${PGQPP_PYTHON}")

# Gives an already registered test the fixture, environment, labels and timeout of a DB test.
function(_pgqpp_db_test_properties test_name)
    set_tests_properties("${test_name}" PROPERTIES
        FIXTURES_REQUIRED pg_cluster
        ENVIRONMENT "${PGQPP_TEST_ENVIRONMENT}"
        TIMEOUT ${PGQPP_TEST_TIMEOUT})
    set_property(TEST "${test_name}" APPEND PROPERTY LABELS db ${ARGN})
endfunction()

# One ctest per <dir>/<name>.sql, named sql.<dirname>.<name>, compared with
# <dir>/expected/<name>.out on each of the TARGETS (tmpl_ours, tmpl_pgq, tmpl_ours_light;
# a target's own <name>.<target>.out, if there is one, takes precedence).
function(pgqpp_add_sql_tests dir)
    cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "TARGETS")
    if(NOT arg_TARGETS)
        message(FATAL_ERROR "pgqpp_add_sql_tests(${dir}): TARGETS ours and/or pgq is required")
    endif()
    get_filename_component(dir "${dir}" ABSOLUTE)
    get_filename_component(group "${dir}" NAME)
    file(GLOB sql_files CONFIGURE_DEPENDS "${dir}/*.sql")
    # Expected files matter too: a new or deleted one must re-run this check.
    file(GLOB expected_files CONFIGURE_DEPENDS "${dir}/expected/*.out")
    set(target_args "")
    foreach(target IN LISTS arg_TARGETS)
        if(NOT target MATCHES "^(ours|pgq|ours_light)$")
            message(FATAL_ERROR "pgqpp_add_sql_tests(${dir}): unknown target '${target}'")
        endif()
        list(APPEND target_args --target "${target}")
    endforeach()
    foreach(sql IN LISTS sql_files)
        get_filename_component(name "${sql}" NAME_WE)
        set(expected "${dir}/expected/${name}.out")
        if(NOT EXISTS "${expected}")
            message(FATAL_ERROR
                "SQL test ${sql} has no expected output ${expected}.\n"
                "Create an empty one, then run: PGQPP_ACCEPT=1 ctest --test-dir build -R sql.${group}.${name}")
        endif()
        set(test_name "sql.${group}.${name}")
        add_test(NAME "${test_name}"
            COMMAND bash "${PROJECT_SOURCE_DIR}/tests/harness/run_sql_test.sh"
                --name "${test_name}" --sql "${sql}" --expected "${expected}" ${target_args})
        _pgqpp_db_test_properties("${test_name}" sql)
    endforeach()
endfunction()

# A GoogleTest executable linked with the test support library; each TEST is its own ctest
# (discovered when ctest runs, so a new TEST needs only a rebuild). NO_DB: a plain unit test.
# LIGHT: its tests on ours run a second time as "<name>.light.<test>" on tmpl_ours_light
# (every queue with the option light_batches); controls on the real PgQ are not repeated.
function(pgqpp_add_gtest name)
    cmake_parse_arguments(PARSE_ARGV 1 arg "NO_DB;LIGHT" "" "SOURCES;LIBRARIES")
    if(NOT arg_SOURCES)
        message(FATAL_ERROR "pgqpp_add_gtest(${name}): SOURCES is required")
    endif()
    add_executable("${name}" ${arg_SOURCES})
    target_link_libraries("${name}" PRIVATE
        pgqpp_test_support ${arg_LIBRARIES} GTest::gtest_main pgqpp::warnings)
    set(label db)
    if(arg_NO_DB)
        set(label unit)
    endif()
    gtest_discover_tests("${name}"
        TEST_PREFIX "${name}."
        DISCOVERY_MODE PRE_TEST
        NO_PRETTY_VALUES
        PROPERTIES LABELS ${label} TIMEOUT ${PGQPP_TEST_TIMEOUT})
    if(arg_LIGHT AND NOT arg_NO_DB)
        gtest_discover_tests("${name}"
            TEST_PREFIX "${name}.light."
            TEST_LIST "${name}_light_TESTS"
            TEST_FILTER "-*Control*:*/pgq"
            DISCOVERY_MODE PRE_TEST
            NO_PRETTY_VALUES
            PROPERTIES LABELS ${label} TIMEOUT ${PGQPP_TEST_TIMEOUT})
    endif()
    if(NOT arg_NO_DB)
        # The tests are only known when ctest runs, and gtest_discover_tests(PROPERTIES)
        # loses the separators of a list value such as ENVIRONMENT. So the DB properties are
        # set by a ctest script that runs after discovery, on the list it leaves behind.
        set(props_file "${CMAKE_CURRENT_BINARY_DIR}/${name}_db_properties.cmake")
        file(CONFIGURE OUTPUT "${props_file}" @ONLY CONTENT [[
if(@name@_TESTS)
    set_tests_properties(${@name@_TESTS} PROPERTIES
        FIXTURES_REQUIRED pg_cluster
        ENVIRONMENT "@PGQPP_TEST_ENVIRONMENT@")
endif()
if(@name@_light_TESTS)
    set_tests_properties(${@name@_light_TESTS} PROPERTIES
        FIXTURES_REQUIRED pg_cluster
        ENVIRONMENT "@PGQPP_TEST_ENVIRONMENT@;PGQPP_TEST_TEMPLATE_OURS=tmpl_ours_light"
        LABELS "db;light")
endif()
]])
        set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${props_file}")
    endif()
endfunction()

# Any command (shell script, python, ...) as a database test.
function(pgqpp_add_script_test name)
    cmake_parse_arguments(PARSE_ARGV 1 arg "" "WORKING_DIRECTORY;TIMEOUT" "COMMAND")
    if(NOT arg_COMMAND)
        message(FATAL_ERROR "pgqpp_add_script_test(${name}): COMMAND is required")
    endif()
    if(NOT arg_WORKING_DIRECTORY)
        set(arg_WORKING_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}")
    endif()
    add_test(NAME "${name}" COMMAND ${arg_COMMAND} WORKING_DIRECTORY "${arg_WORKING_DIRECTORY}")
    _pgqpp_db_test_properties("${name}" script)
    if(arg_TIMEOUT)
        set_tests_properties("${name}" PROPERTIES TIMEOUT ${arg_TIMEOUT})
    endif()
endfunction()
