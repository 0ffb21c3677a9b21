# Crash tests of the consumer runtime (tests/crash, docs/consumer.md): consumer daemons
# (examples/consumer/mirror_consumer) killed, their backends terminated and their database
# restarted (a private cluster) while they work; each event's effect must be there once.
if(TARGET example_mirror_consumer)
    # Three cooperative members, one SIGKILLed holding a batch: taken over, each row once.
    pgqpp_add_script_test(crash.coop_members
        COMMAND ${PGQPP_PYTHON} "${CMAKE_CURRENT_SOURCE_DIR}/crash/coop_members_test.py"
            "$<TARGET_FILE:example_mirror_consumer>"
        TIMEOUT 120)
    # A long batch: /metrics and the stats line meanwhile, SIGTERM finishes it and exits 0.
    pgqpp_add_script_test(crash.long_batch
        COMMAND ${PGQPP_PYTHON} "${CMAKE_CURRENT_SOURCE_DIR}/crash/long_batch_test.py"
            "$<TARGET_FILE:example_mirror_consumer>"
        TIMEOUT 120)
    # The issue's crash test: remote mode on a private cluster, 20 kills (6 at failpoints
    # between the target commit and finish_batch), terminated backends, server restarts.
    pgqpp_add_script_test(crash.remote_exactly_once
        COMMAND ${PGQPP_PYTHON} "${CMAKE_CURRENT_SOURCE_DIR}/crash/remote_crash_test.py"
            "$<TARGET_FILE:example_mirror_consumer>" "${PGQ_INSTALL_SQL}" "${PGQ_EXT_INSTALL_SQL}"
        TIMEOUT 240)
    # Remote mode killed between the target commit and finish_batch: the batch's retries
    # must not be lost with it.
    pgqpp_add_script_test(crash.remote_retry
        COMMAND ${PGQPP_PYTHON} "${CMAKE_CURRENT_SOURCE_DIR}/crash/remote_retry_test.py"
            "$<TARGET_FILE:example_mirror_consumer>"
        TIMEOUT 120)
    # 2,000,000 events in one batch drained with a peak RSS under 100 MiB.
    pgqpp_add_script_test(crash.big_batch
        COMMAND ${PGQPP_PYTHON} "${CMAKE_CURRENT_SOURCE_DIR}/crash/big_batch_test.py"
            "$<TARGET_FILE:example_mirror_consumer>"
        TIMEOUT 180)
endif()
