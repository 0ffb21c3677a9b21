# ExpandSql.cmake: builds the install and extension scripts of pgq, or of one of its
# companion units (pgq_ext, pgq_coop); run with `cmake -P`.
#
# Starting from ENTRY, every line that is a psql include (`\i path` or `\include path`) is
# replaced by the contents of that file, recursively; paths are relative to SQL_ROOT. All
# other lines are copied verbatim. Then `@PGQ_VERSION@` (and `@EXT_VERSION@`) is replaced by
# PGQ_VERSION, the version of the unit being built.
#
# Required: -DSQL_ROOT=<source dir> -DENTRY=<relative path> -DPGQ_VERSION=<x.y.z>
#           -DOUTPUT_DIR=<dir>
# Optional: -DUPGRADE_FROM=<v1,v2,...> versions that get a <name>--<v>--<ver>.sql update script
#           -DEXT_NAME=<name> the extension's name (default pgq)
#
# Writes into OUTPUT_DIR (<name> = EXT_NAME):
#   <name>_install.sql          plain script for `psql -f` (one transaction)
#   <name>--<ver>.sql           CREATE EXTENSION script
#   <name>--<from>--<ver>.sql   ALTER EXTENSION UPDATE scripts (the body is idempotent)
#
# Errors (missing file, file included twice, leftover psql meta-command) name the file and line.

cmake_minimum_required(VERSION 3.22)

foreach(required SQL_ROOT ENTRY PGQ_VERSION OUTPUT_DIR)
    if(NOT DEFINED ${required} OR "${${required}}" STREQUAL "")
        message(FATAL_ERROR "ExpandSql.cmake: -D${required}=... is required")
    endif()
endforeach()
if(NOT DEFINED EXT_NAME OR "${EXT_NAME}" STREQUAL "")
    set(EXT_NAME pgq)
endif()

# Newline count of the first <length> characters of <text>, plus one: a 1-based line number.
function(_pgq_line_number out text length)
    string(SUBSTRING "${text}" 0 ${length} head)
    string(REGEX REPLACE "[^\n]" "" newlines "${head}")
    string(LENGTH "${newlines}" count)
    math(EXPR count "${count} + 1")
    set(${out} ${count} PARENT_SCOPE)
endfunction()

# Sets the variable named by <out> to the expanded contents of <rel_path>.
# <from> is "file:line" of the include that asked for it (for error messages).
function(_pgq_expand out rel_path from)
    if(IS_ABSOLUTE "${rel_path}")
        set(path "${rel_path}")
    else()
        set(path "${SQL_ROOT}/${rel_path}")
    endif()
    cmake_path(NORMAL_PATH path)
    if(NOT EXISTS "${path}" OR IS_DIRECTORY "${path}")
        message(FATAL_ERROR "${from}: included file does not exist: ${rel_path} (looked for ${path})")
    endif()

    # Each file may appear once: a second include is a copy-paste mistake or a cycle.
    get_property(seen_from GLOBAL PROPERTY _pgq_included_from_${path})
    if(seen_from)
        message(FATAL_ERROR "${from}: ${rel_path} is included twice (first at ${seen_from})")
    endif()
    set_property(GLOBAL PROPERTY _pgq_included_from_${path} "${from}")

    file(READ "${path}" content)
    set(result "")
    set(rest "${content}")
    # An include line: start of text or after a newline, optional blanks, \i or \include,
    # a path (optionally single-quoted), optional trailing blanks.
    set(include_re "(^|\n)[ \t]*\\\\(i|include)[ \t]+('?)([^'\n]*[^'\n \t\r])('?)[ \t\r]*(\n|$)")
    while(TRUE)
        string(REGEX MATCH "${include_re}" match "${rest}")
        if(match STREQUAL "")
            break()
        endif()
        set(include_path "${CMAKE_MATCH_4}")
        string(FIND "${rest}" "${match}" pos)
        string(LENGTH "${match}" match_len)
        # Keep the newline before the include line; drop the line itself but keep its newline.
        if(match MATCHES "^\n")
            math(EXPR pos "${pos} + 1")
            math(EXPR match_len "${match_len} - 1")
        endif()
        if(match MATCHES "\n$")
            math(EXPR match_len "${match_len} - 1")
        endif()

        string(SUBSTRING "${rest}" 0 ${pos} before)
        string(LENGTH "${content}" content_len)
        string(LENGTH "${rest}" rest_len)
        math(EXPR abs_pos "${content_len} - ${rest_len} + ${pos}")
        _pgq_line_number(line "${content}" ${abs_pos})
        file(RELATIVE_PATH shown "${SQL_ROOT}" "${path}")

        set(included "")
        _pgq_expand(included "${include_path}" "pgq_sql/${shown}:${line}")
        # The included text replaces the line, so its own final newline is not doubled.
        string(REGEX REPLACE "\n$" "" included "${included}")

        math(EXPR after "${pos} + ${match_len}")
        string(SUBSTRING "${rest}" ${after} -1 rest)
        # The newline that ended the include line now starts <rest>.
        string(APPEND result "${before}${included}")
    endwhile()
    string(APPEND result "${rest}")
    set(${out} "${result}" PARENT_SCOPE)
endfunction()

set(body "")
_pgq_expand(body "${ENTRY}" "the build entry point")
string(REPLACE "@PGQ_VERSION@" "${PGQ_VERSION}" body "${body}")
string(REPLACE "@EXT_VERSION@" "${PGQ_VERSION}" body "${body}")
if(NOT body MATCHES "\n$")
    string(APPEND body "\n")
endif()

# The extension script is run by the server, which does not understand psql meta-commands;
# only the \i lines are ours to expand, so anything else starting with a backslash is a bug.
string(REGEX MATCH "(^|\n)[ \t]*\\\\[a-zA-Z!?][^\n]*" meta "${body}")
if(NOT meta STREQUAL "")
    string(STRIP "${meta}" meta)
    message(FATAL_ERROR
        "${EXT_NAME} SQL contains a psql meta-command that CREATE EXTENSION cannot run: '${meta}'")
endif()

set(install_sql "\\set ON_ERROR_STOP 1\nbegin;\n\n${body}\ncommit;\n")
set(extension_sql "\\echo Use \"CREATE EXTENSION ${EXT_NAME}\" to load this file. \\quit\n${body}")

function(_pgq_write name text)
    file(WRITE "${OUTPUT_DIR}/${name}" "${text}")
endfunction()

file(MAKE_DIRECTORY "${OUTPUT_DIR}")
_pgq_write("${EXT_NAME}_install.sql" "${install_sql}")
_pgq_write("${EXT_NAME}--${PGQ_VERSION}.sql" "${extension_sql}")
string(REPLACE "," ";" upgrade_from "${UPGRADE_FROM}")
foreach(old IN LISTS upgrade_from)
    if(NOT old STREQUAL PGQ_VERSION)
        _pgq_write("${EXT_NAME}--${old}--${PGQ_VERSION}.sql" "${extension_sql}")
    endif()
endforeach()
