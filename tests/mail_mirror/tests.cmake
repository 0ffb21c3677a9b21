# The mail mirror example (examples/mail_mirror, docs/example-mail-mirror.md) end to end, and
# the README's demo (scripts/demo.sh) in a short run so that it cannot rot.
if(TARGET mail_mirror_daemon AND TARGET pgqpp_ticker)
    pgqpp_add_script_test(example.mail_mirror.end_to_end
        COMMAND bash "${CMAKE_CURRENT_SOURCE_DIR}/mail_mirror/mail_mirror_test.sh"
            "$<TARGET_FILE_DIR:mail_mirror_daemon>" "$<TARGET_FILE:pgqpp_ticker>"
        TIMEOUT 240)
    set_property(TEST example.mail_mirror.end_to_end APPEND PROPERTY LABELS example)
endif()

# The README's demo command, 10 s of load instead of 60, with this build's programs.
if(TARGET mail_mirror_daemon AND TARGET pgqpp_ticker)
    pgqpp_add_script_test(example.mail_mirror.demo
        COMMAND env DEMO_SECONDS=10 "DEMO_BUILD_DIR=${CMAKE_BINARY_DIR}"
            bash "${PROJECT_SOURCE_DIR}/scripts/demo.sh"
        TIMEOUT 180)
    set_property(TEST example.mail_mirror.demo APPEND PROPERTY LABELS example)
endif()

# The code in docs/example-mail-mirror.md is a copy of the example (tests/examples/snippets.py).
add_test(NAME docs.mail_mirror_snippets
    COMMAND ${PGQPP_PYTHON} "${CMAKE_CURRENT_SOURCE_DIR}/examples/snippets.py" check
        "${PROJECT_SOURCE_DIR}/docs/example-mail-mirror.md")
set_tests_properties(docs.mail_mirror_snippets PROPERTIES LABELS "unit;docs" TIMEOUT 60)

# The JSON row -> COPY line conversion of the mirror daemon (no database).
if(TARGET mail_mirror_writer)
    pgqpp_add_gtest(mail_mirror_unit SOURCES mail_mirror/letter_row_test.cpp
        LIBRARIES mail_mirror_writer NO_DB)
endif()

# The mirror's bulk apply (sql/mirror.sql) on both of its paths, step by step.
pgqpp_add_script_test(example.mail_mirror.apply
    COMMAND bash "${CMAKE_CURRENT_SOURCE_DIR}/mail_mirror/apply_test.sh" TIMEOUT 60)
set_property(TEST example.mail_mirror.apply APPEND PROPERTY LABELS example)
