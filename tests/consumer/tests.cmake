# The consumer examples of docs/consumer.md (examples/consumer) as processes; mirror_consumer
# has a test of its own (tests/examples/mirror_consumer_test.sh) and the crash tests use it.
foreach(example IN ITEMS order_totals copy_to_remote event_log coop_worker)
    if(TARGET example_${example})
        pgqpp_add_script_test(example.consumer.${example}
            COMMAND ${PGQPP_PYTHON} "${CMAKE_CURRENT_SOURCE_DIR}/consumer/examples_test.py"
                ${example} "$<TARGET_FILE:example_${example}>"
            TIMEOUT 120)
        set_property(TEST example.consumer.${example} APPEND PROPERTY LABELS example)
    endif()
endforeach()
