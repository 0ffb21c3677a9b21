# Installs the C++ libraries as a package (component pgqpp_cpp): headers, the static
# libraries, a CMake package config (find_package(pgqpp) -> pgqpp::core, pgqpp::producer,
# pgqpp::runtime)
# and pgqpp.pc for pkg-config. The SQL files (pgq_sql/) install separately.
#
#   cmake --install build --component pgqpp_cpp --prefix /opt/pgqpp
include(CMakePackageConfigHelpers)

# The C++ library follows the SQL version it was written for.
set(PGQPP_VERSION "${PGQ_VERSION}")
set(PGQPP_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/pgqpp")

install(EXPORT pgqppTargets
    NAMESPACE pgqpp::
    DESTINATION "${PGQPP_CMAKE_DIR}"
    COMPONENT pgqpp_cpp)
configure_package_config_file(
    "${PROJECT_SOURCE_DIR}/cmake/pgqppConfig.cmake.in"
    "${PROJECT_BINARY_DIR}/pgqppConfig.cmake"
    INSTALL_DESTINATION "${PGQPP_CMAKE_DIR}")
write_basic_package_version_file(
    "${PROJECT_BINARY_DIR}/pgqppConfigVersion.cmake"
    VERSION "${PGQPP_VERSION}"
    COMPATIBILITY SameMinorVersion)
install(FILES
    "${PROJECT_BINARY_DIR}/pgqppConfig.cmake"
    "${PROJECT_BINARY_DIR}/pgqppConfigVersion.cmake"
    DESTINATION "${PGQPP_CMAKE_DIR}"
    COMPONENT pgqpp_cpp)

# pkg-config: relocatable (the prefix is found from the .pc file's own place), so that
# `cmake --install --prefix` anywhere gives a working file.
file(RELATIVE_PATH PGQPP_PC_TO_PREFIX "/root/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/root")
configure_file("${PROJECT_SOURCE_DIR}/cmake/pgqpp.pc.in" "${PROJECT_BINARY_DIR}/pgqpp.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/pgqpp.pc"
    DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig"
    COMPONENT pgqpp_cpp)
