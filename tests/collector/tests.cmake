# examples/collector as processes (tests/collector/collector_test.sh): three cooperative
# workers, the mail server with a flaky and a dead source, the ticker daemon.
if(TARGET collector_worker AND TARGET collector_mail_server AND TARGET pgqpp_ticker)
    pgqpp_add_script_test(example.collector
        COMMAND bash "${CMAKE_CURRENT_SOURCE_DIR}/collector/collector_test.sh"
            "$<TARGET_FILE:collector_worker>" "$<TARGET_FILE:collector_mail_server>"
            "$<TARGET_FILE:pgqpp_ticker>"
        TIMEOUT 180)
    set_property(TEST example.collector APPEND PROPERTY LABELS example)
endif()
