# pgq_companion_sql(<name> [UPGRADE_FROM <version>...])
#
# Builds one of the queue's companion SQL units (pgq_ext, pgq_coop): an installable unit of
# its own next to pgq, with its own version. Called from pgq_sql/<name>/CMakeLists.txt, whose
# directory holds:
#
#   VERSION                  the unit's version (x.y.z)
#   <name>.control.in        the extension's control file (@EXT_VERSION@ is substituted)
#   structure/install.sql    the table of contents; \i includes are expanded as for pgq
#                            (cmake/ExpandSql.cmake), @EXT_VERSION@ replaced by VERSION
#
# Writes into ${CMAKE_BINARY_DIR}/pgq_sql, next to pgq's files:
#   <name>_install.sql       plain install script (psql -f; one transaction; idempotent)
#   <name>--<ver>.sql        CREATE EXTENSION script
#   <name>--<old>--<ver>.sql ALTER EXTENSION UPDATE script for each UPGRADE_FROM version
#   <name>.control
# and sets <NAME>_INSTALL_SQL (cache, e.g. PGQ_EXT_INSTALL_SQL) to the plain script's path.
# `cmake --install` puts the extension files into PGQPP_EXTENSION_DIR and the plain script
# into <datadir>/pgqpp, as for pgq.
function(pgq_companion_sql name)
    cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "UPGRADE_FROM")
    set(src "${CMAKE_CURRENT_SOURCE_DIR}")
    file(STRINGS "${src}/VERSION" version LIMIT_COUNT 1)
    string(STRIP "${version}" version)
    if(NOT version MATCHES "^[0-9]+\\.[0-9]+(\\.[0-9]+)?$")
        message(FATAL_ERROR "${src}/VERSION must hold a version like 3.6.0, found '${version}'")
    endif()
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${src}/VERSION")

    set(out_dir "${CMAKE_BINARY_DIR}/pgq_sql")
    set(install_sql "${out_dir}/${name}_install.sql")
    set(extension_sql "${out_dir}/${name}--${version}.sql")
    set(upgrade_sqls "")
    foreach(old IN LISTS arg_UPGRADE_FROM)
        list(APPEND upgrade_sqls "${out_dir}/${name}--${old}--${version}.sql")
    endforeach()
    string(REPLACE ";" "," upgrade_from_arg "${arg_UPGRADE_FROM}")

    file(GLOB_RECURSE sources CONFIGURE_DEPENDS "${src}/*.sql")
    add_custom_command(
        OUTPUT "${install_sql}" "${extension_sql}" ${upgrade_sqls}
        COMMAND "${CMAKE_COMMAND}"
            "-DSQL_ROOT=${src}"
            "-DENTRY=structure/install.sql"
            "-DEXT_NAME=${name}"
            "-DPGQ_VERSION=${version}"
            "-DOUTPUT_DIR=${out_dir}"
            "-DUPGRADE_FROM=${upgrade_from_arg}"
            -P "${PROJECT_SOURCE_DIR}/cmake/ExpandSql.cmake"
        DEPENDS ${sources} "${PROJECT_SOURCE_DIR}/cmake/ExpandSql.cmake"
        COMMENT "Expanding ${name} SQL ${version}"
        VERBATIM)

    set(EXT_VERSION "${version}")
    configure_file("${src}/${name}.control.in" "${out_dir}/${name}.control" @ONLY)

    add_custom_target(${name}_sql ALL
        DEPENDS "${install_sql}" "${extension_sql}" ${upgrade_sqls}
        SOURCES "${src}/${name}.control.in" "${src}/VERSION")

    string(TOUPPER "${name}" upper)
    set(${upper}_INSTALL_SQL "${install_sql}" CACHE INTERNAL "plain ${name} install script")
    set(${upper}_VERSION "${version}" CACHE INTERNAL "${name} SQL version")

    install(FILES "${out_dir}/${name}.control" "${extension_sql}" ${upgrade_sqls}
        DESTINATION "${PGQPP_EXTENSION_DIR}")
    install(FILES "${install_sql}" DESTINATION "${CMAKE_INSTALL_DATADIR}/pgqpp")
endfunction()
