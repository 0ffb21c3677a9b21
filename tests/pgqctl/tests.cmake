# pgqctl (docs/pgqctl.md) as a black box: every subcommand, its errors and its --json output,
# with the effects checked in the database; on pgqpp's SQL and on the real PgQ.
if(TARGET pgqctl)
    foreach(target IN ITEMS ours pgq)
        set(suffix "")
        if(target STREQUAL "pgq")
            set(suffix ".real_pgq")
        endif()
        pgqpp_add_script_test(pgqctl${suffix}
            COMMAND ${PGQPP_PYTHON} "${CMAKE_CURRENT_SOURCE_DIR}/pgqctl/pgqctl_test.py"
                "$<TARGET_FILE:pgqctl>" --target ${target}
            TIMEOUT 120)
        set_property(TEST pgqctl${suffix} APPEND PROPERTY LABELS pgqctl)
    endforeach()
endif()

# Its pure parts (script splitting, formatting, catch-up estimates) as a unit test.
if(TARGET pgqctl)
    pgqpp_add_gtest(pgqctl_unit_test
        SOURCES pgqctl/pgqctl_unit_test.cpp
                "${PROJECT_SOURCE_DIR}/pgqctl/src/output.cpp"
                "${PROJECT_SOURCE_DIR}/pgqctl/src/sql_script.cpp"
                "${PROJECT_SOURCE_DIR}/pgqctl/src/catch_up.cpp"
        LIBRARIES pgqpp::core nlohmann_json::nlohmann_json
        NO_DB)
    target_include_directories(pgqctl_unit_test PRIVATE "${PROJECT_SOURCE_DIR}/pgqctl/src")
endif()
