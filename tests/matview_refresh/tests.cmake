# examples/matview_refresh as a process (tests/matview_refresh/matview_refresh_test.sh):
# coalescing counted by an event trigger, the interval, correctness on two servers, kill -9
# between the batch's commit and the refresh.
# On our pgq and on the real PgQ (its C jsontriga and ticker).
if(TARGET matview_refresh)
    foreach(kind IN ITEMS ours pgq)
        pgqpp_add_script_test(example.matview_refresh.${kind}
            COMMAND bash "${CMAKE_CURRENT_SOURCE_DIR}/matview_refresh/matview_refresh_test.sh"
                "$<TARGET_FILE:matview_refresh>" ${kind}
            TIMEOUT 180)
        set_property(TEST example.matview_refresh.${kind} APPEND PROPERTY LABELS example)
    endforeach()
endif()
